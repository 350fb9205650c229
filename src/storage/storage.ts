import type { JsonValue } from "../ir/json.ts";

/** A value a Storage holds: any JSON value, or raw bytes. */
export type StorageValue = JsonValue | Uint8Array;

/** One operation of an atomic batch. */
export type BatchOp = { op: "set"; key: string; value: StorageValue } | { op: "delete"; key: string };

/** Options of `compareAndSet`. */
export interface CompareAndSetOptions {
  /** The entry disappears after this many milliseconds (leases). */
  ttlMs?: number;
}

/**
 * A small async key-value store. Every method is async and batches are atomic, so networked
 * implementations (Redis, PostgreSQL) can stand behind it and several daemons can share one.
 * Keys are non-empty well-formed strings of at most MAX_KEY_BYTES UTF-8 bytes (`checkKey`); any
 * character is allowed and adapters encode keys injectively. Values come back exactly: JSON stays
 * JSON, a Uint8Array comes back as a (fresh) Uint8Array. Bad keys or values are refused with a
 * CarError `invalid_input` before anything is written. Operations issued by one caller take effect
 * in the order they were issued. An entry whose TTL has passed is absent to every method.
 */
export interface Storage {
  get(key: string): Promise<StorageValue | undefined>;
  set(key: string, value: StorageValue): Promise<void>;
  /** Returns whether the key existed. */
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  /** Keys starting with `prefix` (default: all), in ascending UTF-16 code-unit order. */
  list(prefix?: string): Promise<string[]>;
  /** Applies every op, in order, or none (also across a crash for durable adapters). */
  batch(ops: BatchOp[]): Promise<void>;
  /**
   * Sets `key` to `value` only if its current value equals `expected` (`undefined` = absent or
   * expired). Returns whether it was set. The basis for leases across processes. Equality is
   * structural for JSON (object key order ignored) and bytewise for bytes. With `ttlMs` the new
   * entry expires then (by the adapter's injected clock); a later `set` or `batch` clears the TTL.
   */
  compareAndSet(key: string, expected: StorageValue | undefined, value: StorageValue, options?: CompareAndSetOptions): Promise<boolean>;
  /** Releases files, locks and connections. */
  close(): Promise<void>;
}

/**
 * One record read back from an AppendLog, with the offset to read the next one from. Offsets are
 * opaque increasing numbers (byte positions for `fs`, sequence numbers elsewhere); 0 is the start.
 */
export interface LogRecord {
  offset: number;
  next: number;
  data: Uint8Array;
}

/**
 * An append-only journal of byte records. `append` resolves only once the record is durable;
 * after a crash, reopening yields exactly a prefix of what was acknowledged.
 */
export interface AppendLog {
  /** Appends one record; resolves with its offset once durable. */
  append(data: Uint8Array): Promise<number>;
  /** Records from `offset` (0 = the start) in order. */
  read(offset?: number): AsyncIterable<LogRecord>;
  /** Rewrites the log keeping only the records `keep` accepts; offsets may change. */
  compact(keep: (record: Uint8Array) => boolean): Promise<void>;
  /** Waits for pending appends, then releases files and locks. */
  close(): Promise<void>;
}
