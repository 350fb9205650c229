import { CarError } from "../../src/errors.ts";
import { systemClock, type Clock } from "../../src/engine/clock.ts";
import { checkKey, checkPrefix, compareKeys } from "../../src/storage/keys.ts";
import { checkRecord, closedError, resolveMaxRecordBytes } from "../../src/storage/records.ts";
import type { AppendLog, BatchOp, CompareAndSetOptions, LogRecord, Storage, StorageValue } from "../../src/storage/storage.ts";
import { checkCompareAndSet, checkValue, copyBytes, decodeValue, encodeValue, valuesEqual } from "../../src/storage/values.ts";

const COMPONENT = "storage:memory";

/** Options of `createMemoryStorage`. */
export interface MemoryStorageOptions {
  /** Decides when compareAndSet TTLs run out (default: the system clock). */
  clock?: Clock;
}

interface Entry {
  bytes: Uint8Array;
  expiresAt: number | undefined;
}

/**
 * A Storage in this process's memory, gone when the process ends (`--ephemeral`). Values are kept
 * in their encoded form, so it accepts, refuses and returns exactly what the durable adapters do.
 */
export function createMemoryStorage(options: MemoryStorageOptions = {}): Storage {
  const clock = options.clock ?? systemClock;
  const entries = new Map<string, Entry>();
  let closed = false;

  // Every method runs to completion without awaiting, so each is atomic and calls apply in order.
  function live(key: string): Entry | undefined {
    const e = entries.get(key);
    if (e?.expiresAt !== undefined && e.expiresAt <= clock.now()) {
      entries.delete(key);
      return undefined;
    }
    return e;
  }
  function open(): void {
    if (closed) throw closedError(COMPONENT);
  }
  function prepare(ops: BatchOp[]): Array<{ key: string; entry: Entry | undefined }> {
    if (!Array.isArray(ops)) throw invalid("batch ops must be an array");
    return ops.map((op) => {
      checkKey(op?.key, COMPONENT);
      if (op.op === "delete") return { key: op.key, entry: undefined };
      if (op.op !== "set") throw invalid(`unknown batch op ${JSON.stringify((op as { op?: unknown }).op)}`);
      checkValue(op.value, COMPONENT);
      return { key: op.key, entry: { bytes: encodeValue(op.value), expiresAt: undefined } };
    });
  }

  return {
    async get(key) {
      open();
      checkKey(key, COMPONENT);
      const e = live(key);
      return e ? decodeValue(e.bytes, { component: COMPONENT, key }) : undefined;
    },
    async set(key, value) {
      open();
      checkKey(key, COMPONENT);
      checkValue(value, COMPONENT);
      entries.set(key, { bytes: encodeValue(value), expiresAt: undefined });
    },
    async delete(key) {
      open();
      checkKey(key, COMPONENT);
      const existed = live(key) !== undefined;
      entries.delete(key);
      return existed;
    },
    async has(key) {
      open();
      checkKey(key, COMPONENT);
      return live(key) !== undefined;
    },
    async list(prefix = "") {
      open();
      checkPrefix(prefix, COMPONENT);
      return [...entries.keys()].filter((k) => k.startsWith(prefix) && live(k)).sort(compareKeys);
    },
    async batch(ops) {
      open();
      const prepared = prepare(ops);
      for (const { key, entry } of prepared) {
        if (entry) entries.set(key, entry);
        else entries.delete(key);
      }
    },
    async compareAndSet(key: string, expected: StorageValue | undefined, value: StorageValue, opts?: CompareAndSetOptions) {
      open();
      checkCompareAndSet(key, expected, value, opts?.ttlMs, COMPONENT);
      const cur = live(key);
      const current = cur ? decodeValue(cur.bytes, { component: COMPONENT, key }) : undefined;
      if (!valuesEqual(current, expected)) return false;
      entries.set(key, { bytes: encodeValue(value), expiresAt: opts?.ttlMs !== undefined ? clock.now() + opts.ttlMs : undefined });
      return true;
    },
    async close() {
      closed = true;
      entries.clear();
    },
  };
}

function invalid(message: string): CarError {
  return new CarError("invalid_input", COMPONENT, message);
}

/** Index of the first record whose offset is at least `at` (records are sorted by offset). */
function firstAtOrAfter(records: ReadonlyArray<{ offset: number }>, at: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (records[mid]!.offset < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Options of `createMemoryAppendLog`. */
export interface MemoryAppendLogOptions {
  /** Largest record accepted (default DEFAULT_MAX_RECORD_BYTES, 64 MiB). */
  maxRecordBytes?: number;
}

/** An AppendLog in memory. Offsets are sequence numbers starting at 1; compaction keeps them. */
export function createMemoryAppendLog(options: MemoryAppendLogOptions = {}): AppendLog {
  const max = resolveMaxRecordBytes(options.maxRecordBytes, COMPONENT);
  let records: Array<{ offset: number; data: Uint8Array }> = [];
  let nextOffset = 1;
  let closed = false;
  const open = () => {
    if (closed) throw closedError(COMPONENT);
  };

  return {
    async append(data) {
      open();
      checkRecord(data, max, COMPONENT);
      const offset = nextOffset++;
      records.push({ offset, data: copyBytes(data) });
      return offset;
    },
    async *read(offset = 0): AsyncIterable<LogRecord> {
      open();
      // Look the position up again each step, so appends and compaction during a read are handled.
      for (let at = offset; ; ) {
        open();
        const rec = records[firstAtOrAfter(records, at)];
        if (!rec) return;
        yield { offset: rec.offset, next: rec.offset + 1, data: copyBytes(rec.data) };
        at = rec.offset + 1;
      }
    },
    async compact(keep) {
      open();
      records = records.filter((r) => keep(copyBytes(r.data)));
    },
    async close() {
      closed = true;
      records = [];
    },
  };
}
