import { systemClock, type Clock } from "../../src/engine/clock.ts";
import { CarError } from "../../src/errors.ts";
import { checkKey, checkPrefix, compareKeys } from "../../src/storage/keys.ts";
import { closedError } from "../../src/storage/records.ts";
import type { BatchOp, CompareAndSetOptions, Storage, StorageValue } from "../../src/storage/storage.ts";
import { checkCompareAndSet, checkValue, decodeValue, encodeValue, valuesEqual } from "../../src/storage/values.ts";
import { openIdbStore, prefixRange, type IdbStore } from "./indexeddb-tx.ts";

export { createIndexedDbAppendLog, type IndexedDbAppendLogOptions } from "./indexeddb-log.ts";

const COMPONENT = "storage:indexeddb";

/** Options of `createIndexedDbStorage`. */
export interface IndexedDbStorageOptions {
  /** The database; give each Storage and each AppendLog its own. */
  dbName: string;
  /** The object store inside it (default `kv`). */
  storeName?: string;
  /** Decides when compareAndSet TTLs run out (default: the system clock). */
  clock?: Clock;
}

/** What is stored under a key: the encoded value (see values.ts) and its expiry, if any. */
interface StoredRecord {
  v: Uint8Array;
  e?: number;
}

/**
 * A Storage in IndexedDB (browsers; Node with fake-indexeddb), through idb-keyval. Every method is
 * one IndexedDB transaction, so batches and compareAndSet are atomic across tabs too. Values keep
 * their encoded form; an expiry is also written under the array key `[key]` (arrays sort after all
 * strings) so `has` and `list` need not load values.
 */
export async function createIndexedDbStorage(options: IndexedDbStorageOptions): Promise<Storage> {
  if (typeof options?.dbName !== "string" || options.dbName === "") throw new CarError("invalid_input", COMPONENT, "dbName must be a non-empty string");
  const db = openIdbStore(options.dbName, options.storeName ?? "kv", COMPONENT);
  await db.run("readonly", (s) => {
    s.count(); // opens (and on first use creates) the database now, so errors surface here
    return () => undefined;
  });
  return new IdbStorage(db, options.clock ?? systemClock, options.dbName);
}

class IdbStorage implements Storage {
  private closed = false;
  constructor(
    private readonly db: IdbStore,
    private readonly clock: Clock,
    private readonly dbName: string,
  ) {}

  async get(key: string): Promise<StorageValue | undefined> {
    this.ready();
    checkKey(key, COMPONENT);
    const now = this.clock.now();
    return this.db.run("readonly", (s) => {
      const r = s.get(key);
      return () => this.decode(r.result, key, now);
    });
  }

  async set(key: string, value: StorageValue): Promise<void> {
    this.ready();
    checkKey(key, COMPONENT);
    checkValue(value, COMPONENT);
    const rec: StoredRecord = { v: encodeValue(value) };
    await this.db.run("readwrite", (s) => {
      s.put(rec, key);
      s.delete([key]);
      return () => undefined;
    });
  }

  async delete(key: string): Promise<boolean> {
    this.ready();
    checkKey(key, COMPONENT);
    const now = this.clock.now();
    return this.db.run("readwrite", (s) => {
      const count = s.count(key);
      const exp = s.get([key]);
      s.delete(key);
      s.delete([key]);
      return () => count.result > 0 && !expired(exp.result, now);
    });
  }

  async has(key: string): Promise<boolean> {
    this.ready();
    checkKey(key, COMPONENT);
    const now = this.clock.now();
    return this.db.run("readonly", (s) => {
      const count = s.count(key);
      const exp = s.get([key]);
      return () => count.result > 0 && !expired(exp.result, now);
    });
  }

  async list(prefix = ""): Promise<string[]> {
    this.ready();
    checkPrefix(prefix, COMPONENT);
    const now = this.clock.now();
    return this.db.run("readonly", (s) => {
      const keys = s.getAllKeys(prefixRange(prefix));
      const expKeys = s.getAllKeys(prefixRange(prefix, true));
      const expValues = s.getAll(prefixRange(prefix, true));
      return () => {
        const gone = new Set<string>();
        expKeys.result.forEach((k, i) => {
          if (Array.isArray(k) && typeof k[0] === "string" && expired(expValues.result[i], now)) gone.add(k[0]);
        });
        return keys.result.filter((k): k is string => typeof k === "string" && k.startsWith(prefix) && !gone.has(k)).sort(compareKeys);
      };
    });
  }

  async batch(ops: BatchOp[]): Promise<void> {
    this.ready();
    if (!Array.isArray(ops)) throw new CarError("invalid_input", COMPONENT, "batch ops must be an array");
    const prepared = ops.map((op) => {
      checkKey(op?.key, COMPONENT);
      if (op.op === "delete") return { key: op.key, rec: undefined };
      if (op.op !== "set") throw new CarError("invalid_input", COMPONENT, `unknown batch op ${JSON.stringify((op as { op?: unknown }).op)}`);
      checkValue(op.value, COMPONENT);
      return { key: op.key, rec: { v: encodeValue(op.value) } satisfies StoredRecord };
    });
    if (prepared.length === 0) return;
    await this.db.run("readwrite", (s) => {
      for (const { key, rec } of prepared) {
        if (rec) s.put(rec, key);
        else s.delete(key);
        s.delete([key]);
      }
      return () => undefined;
    });
  }

  async compareAndSet(key: string, expected: StorageValue | undefined, value: StorageValue, options?: CompareAndSetOptions): Promise<boolean> {
    this.ready();
    checkCompareAndSet(key, expected, value, options?.ttlMs, COMPONENT);
    const now = this.clock.now();
    const expiresAt = options?.ttlMs !== undefined ? now + options.ttlMs : undefined;
    const rec: StoredRecord = expiresAt !== undefined ? { v: encodeValue(value), e: expiresAt } : { v: encodeValue(value) };
    return this.db.run("readwrite", (s, fail) => {
      let swapped = false;
      const cur = s.get(key);
      // Decide inside the transaction, so no other writer (another tab) slips in between.
      cur.onsuccess = () => {
        try {
          if (!valuesEqual(this.decode(cur.result, key, now), expected)) return;
          s.put(rec, key);
          if (expiresAt !== undefined) s.put(expiresAt, [key]);
          else s.delete([key]);
          swapped = true;
        } catch (err) {
          fail(err);
        }
      };
      return () => swapped;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  private ready(): void {
    if (this.closed) throw closedError(COMPONENT);
  }

  private decode(raw: unknown, key: string, now: number): StorageValue | undefined {
    if (raw === undefined) return undefined;
    const rec = raw as Partial<StoredRecord> | null;
    if (typeof rec !== "object" || rec === null || !(rec.v instanceof Uint8Array)) {
      throw new CarError("corrupted", COMPONENT, `record of key ${JSON.stringify(key)} in database ${JSON.stringify(this.dbName)} is not a car record; delete the key to recover`, { db: this.dbName, key });
    }
    if (expired(rec.e, now)) return undefined;
    return decodeValue(rec.v, { component: COMPONENT, key });
  }
}

function expired(expiresAt: unknown, now: number): boolean {
  return typeof expiresAt === "number" && expiresAt <= now;
}
