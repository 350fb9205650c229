/**
 * The Runtime in a web page: journaled to IndexedDB (durable execution, docs/durability.md), so a
 * reload picks up where the page left off; memory graphs and checkpoints in IndexedDB storage.
 * Web-standard APIs only (this module is in the `car-server/browser` bundle).
 */
import { createIndexedDbAppendLog, createIndexedDbStorage } from "../adapters/storage/indexeddb.ts";
import { CarError } from "../src/errors.ts";
import { listCheckpoints, loadCheckpoint, storeCheckpoint, type Checkpoint, type RestoreReport } from "../src/engine/checkpoint.ts";
import { openDurableRuntime, type DurableRuntimeOptions, type RecoveryReport } from "../src/engine/durable.ts";
import type { Runtime } from "../src/engine/runtime.ts";
import { storageFileStore } from "../src/memgine/file-store.ts";
import type { MemgineOptions } from "../src/memgine/memgine.ts";
import { MemoryRegistry } from "../src/memgine/registry.ts";
import type { AppendLog, Storage } from "../src/storage/storage.ts";

/** Suffix of the IndexedDB database holding the event journal (idb-keyval keeps one store per database). */
export const JOURNAL_DB_SUFFIX = "-journal";

/** Options of `createBrowserRuntime`: a durable Runtime's (journal aside), plus where in IndexedDB it lives. */
export interface BrowserRuntimeOptions extends Omit<DurableRuntimeOptions, "journal"> {
  /**
   * Names the IndexedDB databases: `<dbName>` (checkpoints, memory graphs and files, the model
   * registry) and `<dbName>-journal` (the runtime's journal). One page (or tab) per name.
   */
  dbName: string;
  /** Settings of the memory graphs (`memory.get(scope)`). */
  memory?: Omit<MemgineOptions, "store" | "namespace" | "files">;
}

/** A Runtime journaled in IndexedDB, with its storage and memory. */
export interface BrowserRuntime {
  /** The runtime: state and events recovered from the journal; every event is journaled. */
  readonly runtime: Runtime;
  /** What recovery found: records read, events restored, proposals it finished (see docs/durability.md). */
  readonly recovery: RecoveryReport;
  /** The key-value store (`<dbName>`): checkpoints, memory, anything the page adds. */
  readonly storage: Storage;
  /** The journal (`<dbName>-journal`). `readJournal(log)` reads it back. */
  readonly log: AppendLog;
  /** Memory graphs by scope (namespace or agent id), persisted in `storage`. */
  readonly memory: MemoryRegistry;
  /** Saves `runtime.saveCheckpoint(metadata)` in `storage` (`checkpoints/<id>`). */
  storeCheckpoint(metadata?: Record<string, unknown>): Promise<Checkpoint>;
  /** Restores a stored checkpoint (`not_found` when absent); resolves once the restore is journaled. */
  restoreCheckpoint(checkpointId: string): Promise<RestoreReport>;
  /** Ids of the stored checkpoints, sorted. */
  listCheckpoints(): Promise<string[]>;
  /** Closes the journal (waiting for running proposals), then both databases. Idempotent. */
  close(): Promise<void>;
}

/** Opens (creating on first use) the page's runtime in IndexedDB and recovers what it journaled. */
export async function createBrowserRuntime(options: BrowserRuntimeOptions): Promise<BrowserRuntime> {
  const { dbName, memory: memoryOptions, ...runtimeOptions } = options ?? ({} as BrowserRuntimeOptions);
  if (typeof dbName !== "string" || dbName === "") throw new CarError("invalid_input", "browser", "dbName must be a non-empty string");
  if (typeof indexedDB === "undefined") throw new CarError("unsupported", "browser", "IndexedDB is not available here");
  const storage = await createIndexedDbStorage({ dbName, ...(runtimeOptions.clock ? { clock: runtimeOptions.clock } : {}) });
  let log: AppendLog | undefined;
  let opened: { runtime: Runtime; recovery: RecoveryReport };
  try {
    log = await createIndexedDbAppendLog({ dbName: dbName + JOURNAL_DB_SUFFIX });
    opened = await openDurableRuntime({ ...runtimeOptions, journal: log });
  } catch (err) {
    await log?.close().catch(() => undefined);
    await storage.close().catch(() => undefined);
    throw err;
  }
  const { runtime, recovery } = opened;
  const journal = log;
  const memory = new MemoryRegistry(storage, {
    ...(runtimeOptions.clock ? { clock: runtimeOptions.clock } : {}),
    ...(runtimeOptions.random ? { random: runtimeOptions.random } : {}),
    ...memoryOptions,
    files: storageFileStore(storage),
  });
  let closing: Promise<void> | undefined;
  return {
    runtime,
    recovery,
    storage,
    log: journal,
    memory,
    async storeCheckpoint(metadata = {}) {
      const cp = runtime.saveCheckpoint(metadata);
      await storeCheckpoint(storage, cp);
      return cp;
    },
    async restoreCheckpoint(checkpointId) {
      const report = runtime.restoreCheckpoint(await loadCheckpoint(storage, checkpointId));
      await runtime.flushJournal();
      return report;
    },
    listCheckpoints: () => listCheckpoints(storage),
    close() {
      closing ??= (async () => {
        try {
          await runtime.closeJournal();
        } finally {
          await journal.close();
          await storage.close();
        }
      })();
      return closing;
    },
  };
}
