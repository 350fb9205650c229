import { join } from "node:path";
import { createFsStorage } from "../adapters/storage/fs.ts";
import { createMemoryStorage } from "../adapters/storage/memory.ts";
import { Scheduler } from "../src/scheduler/scheduler.ts";
import type { DaemonServices } from "../src/server/features.ts";
import type { DaemonConfig } from "./cli-args.ts";

/** Services plus the function that releases them on shutdown. */
export type OpenServices = DaemonServices & { close(): Promise<void> };

/**
 * Opens the daemon-wide services: fs storage under `$CAR_HOME/state` (locked, so two daemons never
 * share it), or in-memory storage with `--ephemeral`.
 */
export async function openDaemonServices(config: DaemonConfig): Promise<OpenServices> {
  const storage = config.ephemeral ? createMemoryStorage() : await createFsStorage({ root: join(config.carHome, "state") });
  return {
    storage,
    scheduler: new Scheduler({ storage }),
    close: () => storage.close(),
  };
}
