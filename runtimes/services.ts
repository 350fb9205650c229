import { join } from "node:path";
import { createFsStorage } from "../adapters/storage/fs.ts";
import { createMemoryStorage } from "../adapters/storage/memory.ts";
import { engineInfer } from "../src/inference/engine-infer.ts";
import type { DaemonServices } from "../src/server/features.ts";
import type { DaemonConfig } from "./cli-args.ts";
import { openInferenceEngine } from "./inference.ts";

/** Services plus the function that releases them on shutdown. */
export type OpenServices = DaemonServices & { close(): Promise<void> };

/**
 * Opens the daemon-wide services: fs storage under `$CAR_HOME/state` (locked, so two daemons never
 * share it), or in-memory storage with `--ephemeral`; the inference engine with the `--model` folders.
 */
export async function openDaemonServices(config: DaemonConfig): Promise<OpenServices> {
  const storage = config.ephemeral ? createMemoryStorage() : await createFsStorage({ root: join(config.carHome, "state") });
  let inference;
  try {
    inference = await openInferenceEngine(storage, config.models);
  } catch (err) {
    await storage.close();
    throw err;
  }
  return {
    storage,
    inference,
    infer: engineInfer(inference),
    close: async () => {
      await inference.close();
      await storage.close();
    },
  };
}
