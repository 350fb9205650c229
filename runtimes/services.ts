import { join } from "node:path";
import { createFsMemoryFileStore } from "../adapters/memory/fs-file-store.ts";
import { createFsStorage } from "../adapters/storage/fs.ts";
import { createMemoryStorage } from "../adapters/storage/memory.ts";
import { storageFileStore } from "../src/memgine/file-store.ts";
import { MemoryRegistry } from "../src/memgine/registry.ts";
import { Scheduler } from "../src/scheduler/scheduler.ts";
import type { DaemonServices } from "../src/server/features.ts";
import type { DaemonConfig } from "./cli-args.ts";

/** Services plus the function that releases them on shutdown. */
export type OpenServices = DaemonServices & { close(): Promise<void> };

/**
 * Opens the daemon-wide services: fs storage under `$CAR_HOME/state` (locked, so two daemons never
 * share it), or in-memory storage with `--ephemeral`; the memory registry over that storage, with
 * `memory.persist`/`memory.load` files confined to `$CAR_HOME/memory` (kept in memory too with
 * `--ephemeral`, under the same path rules, so an ephemeral daemon writes no memory to disk).
 */
export async function openDaemonServices(config: DaemonConfig): Promise<OpenServices> {
  const storage = config.ephemeral ? createMemoryStorage() : await createFsStorage({ root: join(config.carHome, "state") });
  const memoryRoot = join(config.carHome, "memory");
  const files = config.ephemeral ? storageFileStore(storage, { root: memoryRoot }) : createFsMemoryFileStore({ root: memoryRoot });
  return {
    storage,
    memory: new MemoryRegistry(storage, { files }),
    scheduler: new Scheduler({ storage }),
    close: () => storage.close(),
  };
}
