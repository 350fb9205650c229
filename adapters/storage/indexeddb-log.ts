import { CarError } from "../../src/errors.ts";
import { checkRecord, closedError, resolveMaxRecordBytes } from "../../src/storage/records.ts";
import type { AppendLog, LogRecord } from "../../src/storage/storage.ts";
import { openIdbStore } from "./indexeddb-tx.ts";
import { copyBytes } from "../../src/storage/values.ts";

const COMPONENT = "storage:indexeddb";
/** Records fetched per read transaction. */
const READ_PAGE = 256;
/** The string key holding the last sequence number handed out (strings sort after all numbers). */
const SEQ_KEY = "seq";

/** Options of `createIndexedDbAppendLog`. */
export interface IndexedDbAppendLogOptions {
  /** The database; not shared with a Storage. */
  dbName: string;
  /** The object store inside it (default `log`). */
  storeName?: string;
  /** Largest record accepted (default DEFAULT_MAX_RECORD_BYTES, 64 MiB). */
  maxRecordBytes?: number;
}

/**
 * An AppendLog in IndexedDB: each record under its sequence number (1, 2, …), which is its offset.
 * An append resolves when its transaction has committed; compaction deletes records and keeps the
 * offsets of the rest, and sequence numbers are never reused.
 */
export async function createIndexedDbAppendLog(options: IndexedDbAppendLogOptions): Promise<AppendLog> {
  if (typeof options?.dbName !== "string" || options.dbName === "") throw new CarError("invalid_input", COMPONENT, "dbName must be a non-empty string");
  const max = resolveMaxRecordBytes(options.maxRecordBytes, COMPONENT);
  const db = openIdbStore(options.dbName, options.storeName ?? "log", COMPONENT);
  await db.run("readonly", (s) => {
    s.count();
    return () => undefined;
  });
  let closed = false;
  const ready = () => {
    if (closed) throw closedError(COMPONENT);
  };
  const numbers = (from: number) => IDBKeyRange.bound(from, Number.MAX_SAFE_INTEGER);

  return {
    async append(data) {
      ready();
      checkRecord(data, max, COMPONENT);
      const copy = copyBytes(data);
      // Transactions on one store run in the order they were created, so offsets follow call order.
      return db.run("readwrite", (s) => {
        let offset = 0;
        const seq = s.get(SEQ_KEY);
        seq.onsuccess = () => {
          offset = (typeof seq.result === "number" ? seq.result : 0) + 1;
          s.put(offset, SEQ_KEY);
          s.add(copy, offset);
        };
        return () => offset;
      });
    },
    async *read(offset = 0): AsyncIterable<LogRecord> {
      ready();
      for (let pos = Math.max(1, Math.floor(offset)); ; ) {
        ready();
        const page = await db.run("readonly", (s) => {
          const keys = s.getAllKeys(numbers(pos), READ_PAGE);
          const values = s.getAll(numbers(pos), READ_PAGE);
          return () => keys.result.map((k, i) => ({ offset: Number(k), data: values.result[i] as unknown }));
        });
        if (page.length === 0) return;
        for (const rec of page) {
          if (!(rec.data instanceof Uint8Array)) {
            throw new CarError("corrupted", COMPONENT, `record at offset ${rec.offset} of database ${JSON.stringify(options.dbName)} is not bytes`, { db: options.dbName, offset: rec.offset });
          }
          yield { offset: rec.offset, next: rec.offset + 1, data: rec.data };
        }
        pos = page[page.length - 1]!.offset + 1;
      }
    },
    async compact(keep) {
      ready();
      await db.run("readwrite", (s, fail) => {
        const cursor = s.openCursor(numbers(1));
        cursor.onsuccess = () => {
          const c = cursor.result;
          if (!c) return;
          try {
            if (!(c.value instanceof Uint8Array)) {
              throw new CarError("corrupted", COMPONENT, `record at offset ${String(c.key)} of database ${JSON.stringify(options.dbName)} is not bytes`, { db: options.dbName, offset: Number(c.key) });
            }
            if (!keep(copyBytes(c.value))) c.delete();
            c.continue();
          } catch (err) {
            fail(err);
          }
        };
        return () => undefined;
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}
