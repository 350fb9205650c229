import { CarError } from "../../src/errors.ts";
import { crc32 } from "../../src/storage/crc32.ts";

/**
 * One value file: a 32-byte header, the key (UTF-8), the encoded value.
 *   0 magic "CARV" · 4 version (1) · 5 flags (bit 0: has expiry) · 6 reserved (2)
 *   8 expiresAt (float64 ms) · 16 key length · 20 value length · 24 CRC-32 of the value
 *   28 CRC-32 of bytes 0..28 and the key
 */
export const VALUE_HEADER_BYTES = 32;
const MAGIC = [0x43, 0x41, 0x52, 0x56];
const VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** What the header of a value file says. */
export interface ValueHeader {
  key: string;
  expiresAt: number | undefined;
  valueStart: number;
  valueLength: number;
  valueCrc: number;
}

/** The bytes of a value file for `key` holding `value` (already encoded). */
export function encodeValueFile(key: string, value: Uint8Array, expiresAt: number | undefined): Uint8Array {
  const k = encoder.encode(key);
  const out = new Uint8Array(VALUE_HEADER_BYTES + k.length + value.length);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = VERSION;
  out[5] = expiresAt !== undefined ? 1 : 0;
  dv.setFloat64(8, expiresAt ?? 0, true);
  dv.setUint32(16, k.length, true);
  dv.setUint32(20, value.length, true);
  dv.setUint32(24, crc32(value), true);
  out.set(k, VALUE_HEADER_BYTES);
  dv.setUint32(28, crc32(k, crc32(out.subarray(0, 28))), true);
  out.set(value, VALUE_HEADER_BYTES + k.length);
  return out;
}

/**
 * Parses and checks the header at the start of `buf` (which holds at least the header and key,
 * or the whole file). `fileSize` is the file's real size. Throws `corrupted` naming file and offset.
 */
export function decodeValueHeader(buf: Uint8Array, fileSize: number, file: string, component: string): ValueHeader {
  const bad = (offset: number, why: string) =>
    new CarError("corrupted", component, `value file ${file} is corrupted at offset ${offset}: ${why}; delete the file (or the key) to recover`, { file, offset });
  if (buf.length < VALUE_HEADER_BYTES) throw bad(buf.length, "file is shorter than its header");
  if (MAGIC.some((b, i) => buf[i] !== b)) throw bad(0, "not a car value file");
  if (buf[4] !== VERSION) throw bad(4, `unsupported format version ${String(buf[4])}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const keyLength = dv.getUint32(16, true);
  const valueLength = dv.getUint32(20, true);
  if (buf.length < VALUE_HEADER_BYTES + keyLength) throw bad(VALUE_HEADER_BYTES, "key extends past the end of the file");
  const keyBytes = buf.subarray(VALUE_HEADER_BYTES, VALUE_HEADER_BYTES + keyLength);
  if (crc32(keyBytes, crc32(buf.subarray(0, 28))) !== dv.getUint32(28, true)) throw bad(0, "header checksum mismatch");
  const valueStart = VALUE_HEADER_BYTES + keyLength;
  if (fileSize !== valueStart + valueLength) throw bad(Math.min(fileSize, valueStart + valueLength), `file is ${fileSize} bytes, header says ${valueStart + valueLength}`);
  let key: string;
  try {
    key = decoder.decode(keyBytes);
  } catch {
    throw bad(VALUE_HEADER_BYTES, "key is not UTF-8");
  }
  return { key, expiresAt: (buf[5]! & 1) === 1 ? dv.getFloat64(8, true) : undefined, valueStart, valueLength, valueCrc: dv.getUint32(24, true) };
}

/** The encoded value of a whole value file, checked against its checksum. */
export function valueOf(buf: Uint8Array, header: ValueHeader, file: string, component: string): Uint8Array {
  const value = buf.subarray(header.valueStart, header.valueStart + header.valueLength);
  if (crc32(value) !== header.valueCrc) {
    throw new CarError("corrupted", component, `value file ${file} is corrupted at offset ${header.valueStart}: value checksum mismatch; delete the file (or the key) to recover`, {
      file,
      offset: header.valueStart,
    });
  }
  return value;
}
