import { CarError } from "../errors.ts";

/** Default largest record an AppendLog accepts (64 MiB); each adapter takes `maxRecordBytes` to change it. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** Refuses a record that is not bytes or is larger than `max`. */
export function checkRecord(data: unknown, max: number, component: string): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) throw new CarError("invalid_input", component, "an AppendLog record must be a Uint8Array");
  if (data.length > max) {
    throw new CarError("invalid_input", component, `record is ${data.length} bytes; maxRecordBytes is ${max}`, { bytes: data.length, limit: max });
  }
}

/** Checks a `maxRecordBytes` option (a positive integer below 4 GiB, since frames store a 32-bit length). */
export function resolveMaxRecordBytes(value: number | undefined, component: string): number {
  if (value === undefined) return DEFAULT_MAX_RECORD_BYTES;
  if (!Number.isInteger(value) || value <= 0 || value > 0xffff_ffff) {
    throw new CarError("invalid_input", component, `maxRecordBytes must be a positive integer below 2^32, got ${String(value)}`);
  }
  return value;
}

/** The error every adapter throws once it has been closed. */
export function closedError(component: string): CarError {
  return new CarError("storage_error", component, "used after close()");
}
