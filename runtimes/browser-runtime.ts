/**
 * The Runtime in a web page: events journaled and state saved in IndexedDB, so a reload picks up
 * where the page left off; memory graphs and checkpoints in the same IndexedDB storage.
 * Web-standard APIs only (this module is in the `car-server/browser` bundle).
 */
import { createIndexedDbAppendLog, createIndexedDbStorage } from "../adapters/storage/indexeddb.ts";
import { CarError } from "../src/errors.ts";
import { PersistentRuntime } from "../src/engine/persistent-runtime.ts";
import type { RuntimeOptions } from "../src/engine/runtime.ts";
import { storageFileStore } from "../src/memgine/file-store.ts";
import type { MemgineOptions } from "../src/memgine/memgine.ts";
import { MemoryRegistry } from "../src/memgine/registry.ts";
import type { AppendLog, Storage } from "../src/storage/storage.ts";

/** Suffix of the IndexedDB database holding the event journal (idb-keyval keeps one store per database). */
export const JOURNAL_DB_SUFFIX = "-journal";

/** Options of `createBrowserRuntime`: a Runtime's, plus where in IndexedDB it lives. */
export interface BrowserRuntimeOptions extends RuntimeOptions {
  /**
   * Names the IndexedDB databases: `<dbName>` (saved state, checkpoints, memory graphs and files,
   * the model registry) and `<dbName>-journal` (the event journal). One page (or tab) per name.
   */
  dbName: string;
  /** Settings of the memory graphs (`memory.get(scope)`). */
  memory?: Omit<MemgineOptions, "store" | "namespace" | "files">;
}

/** A Runtime persisted in IndexedDB, with its storage and memory. */
export interface BrowserRuntime {
  /** The runtime; state and events are those saved before, and every change is persisted. */
  readonly runtime: PersistentRuntime;
  /** The key-value store (`<dbName>`): state record, checkpoints, memory, anything the page adds. */
  readonly storage: Storage;
  /** The append log (`<dbName>-journal`) behind `runtime.journal`. */
  readonly log: AppendLog;
  /** Memory graphs by scope (namespace or agent id), persisted in `storage`. */
  readonly memory: MemoryRegistry;
  /** Flushes the runtime and closes both databases. */
  close(): Promise<void>;
}

/** Opens (creating on first use) the page's runtime in IndexedDB and restores what it saved. */
export async function createBrowserRuntime(options: BrowserRuntimeOptions): Promise<BrowserRuntime> {
  const { dbName, memory: memoryOptions, ...runtimeOptions } = options ?? ({} as BrowserRuntimeOptions);
  if (typeof dbName !== "string" || dbName === "") throw new CarError("invalid_input", "browser", "dbName must be a non-empty string");
  if (typeof indexedDB === "undefined") throw new CarError("unsupported", "browser", "IndexedDB is not available here");
  const storage = await createIndexedDbStorage({ dbName, ...(runtimeOptions.clock ? { clock: runtimeOptions.clock } : {}) });
  let log: AppendLog | undefined;
  let runtime: PersistentRuntime;
  try {
    log = await createIndexedDbAppendLog({ dbName: dbName + JOURNAL_DB_SUFFIX });
    runtime = await PersistentRuntime.open({ ...runtimeOptions, storage, log });
  } catch (err) {
    await log?.close().catch(() => undefined);
    await storage.close().catch(() => undefined);
    throw err;
  }
  const journalLog = log;
  const memory = new MemoryRegistry(storage, {
    ...(runtimeOptions.clock ? { clock: runtimeOptions.clock } : {}),
    ...(runtimeOptions.random ? { random: runtimeOptions.random } : {}),
    ...memoryOptions,
    files: storageFileStore(storage),
  });
  let closing: Promise<void> | undefined;
  return {
    runtime,
    storage,
    log: journalLog,
    memory,
    close() {
      closing ??= (async () => {
        try {
          await runtime.close();
        } finally {
          await journalLog.close();
          await storage.close();
        }
      })();
      return closing;
    },
  };
}
