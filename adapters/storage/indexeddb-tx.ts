import { createStore, type UseStore } from "idb-keyval";
import { CarError } from "../../src/errors.ts";

/**
 * One IndexedDB transaction on an idb-keyval store. `body` issues requests and returns a function
 * that gives the result once the transaction has committed; `fail` aborts it with an error of ours.
 * Nothing in `body` may await (IndexedDB commits a transaction once it has no pending request).
 */
export type TxBody<T> = (store: IDBObjectStore, fail: (err: unknown) => void) => () => T;

/** A store (one database, one object store) and a way to run transactions on it. */
export interface IdbStore {
  run<T>(mode: IDBTransactionMode, body: TxBody<T>): Promise<T>;
  close(): Promise<void>;
}

/** Opens `storeName` in database `dbName` through idb-keyval's createStore. */
export function openIdbStore(dbName: string, storeName: string, component: string): IdbStore {
  if (typeof indexedDB === "undefined") throw new CarError("unsupported", component, "IndexedDB is not available in this environment");
  const useStore: UseStore = createStore(dbName, storeName);
  const wrap = (err: unknown, what: string) =>
    err instanceof CarError
      ? err
      : new CarError("storage_error", component, `IndexedDB ${what} failed in database ${JSON.stringify(dbName)}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { db: dbName }, { cause: err });
  return {
    async run<T>(mode: IDBTransactionMode, body: TxBody<T>): Promise<T> {
      try {
        return await useStore(mode, (store) =>
          new Promise<T>((resolve, reject) => {
            const tx = store.transaction;
            let failure: unknown;
            const fail = (err: unknown) => {
              failure ??= err;
              try {
                tx.abort();
              } catch {
                // already finishing: onabort or oncomplete reports
              }
            };
            let result: () => T;
            try {
              result = body(store, fail);
            } catch (err) {
              fail(err);
              return reject(err);
            }
            tx.oncomplete = () => {
              try {
                resolve(result());
              } catch (err) {
                reject(err);
              }
            };
            tx.onabort = () => reject(failure ?? tx.error ?? new Error("transaction aborted"));
          }),
        );
      } catch (err) {
        throw wrap(err, `${mode} transaction`);
      }
    },
    async close() {
      const db = await useStore("readonly", (store) => store.transaction.db).catch(() => undefined);
      db?.close();
    },
  };
}

/** The smallest string greater than every string starting with `prefix`; undefined if there is none. */
export function prefixEnd(prefix: string): string | undefined {
  let p = prefix;
  while (p.length > 0 && p.charCodeAt(p.length - 1) === 0xffff) p = p.slice(0, -1);
  if (p.length === 0) return undefined;
  return p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);
}

/** A key range holding every key that starts with `prefix` (arrays wrap keys when `wrap`). */
export function prefixRange(prefix: string, wrap = false): IDBKeyRange {
  const k = (s: string) => (wrap ? [s] : s);
  const end = prefixEnd(prefix);
  return end === undefined ? IDBKeyRange.lowerBound(k(prefix)) : IDBKeyRange.bound(k(prefix), k(end), false, true);
}
