import { join } from "node:path";
import { createFsMemoryFileStore } from "../adapters/memory/fs-file-store.ts";
import { readPolicySources } from "../adapters/policies/fs.ts";
import { createFsAppendLog, createFsStorage } from "../adapters/storage/fs.ts";
import { createMemoryStorage } from "../adapters/storage/memory.ts";
import { storageFileStore } from "../src/memgine/file-store.ts";
import { lazyAppendLog } from "../src/storage/lazy-append-log.ts";
import type { AppendLog } from "../src/storage/storage.ts";
import { MemoryRegistry } from "../src/memgine/registry.ts";
import { Scheduler } from "../src/scheduler/scheduler.ts";
import type { DaemonServices } from "../src/server/features.ts";
import { UsageError, type DaemonConfig } from "./cli-args.ts";
import { engineInfer } from "../src/inference/engine-infer.ts";
import { openInferenceEngine } from "./inference.ts";

/** Services plus the function that releases them on shutdown. */
export type OpenServices = DaemonServices & { close(): Promise<void> };

/**
 * Reads the policy files every session gets: `$CAR_HOME/policies` (if present) then each
 * `--policy` path. A missing `--policy` path or a malformed file is a UsageError (exit 2): the
 * daemon never starts with a policy silently missing.
 */
export async function readDaemonPolicies(config: DaemonConfig): Promise<NonNullable<DaemonServices["policyFiles"]>> {
  try {
    return await readPolicySources([{ path: join(config.carHome, "policies"), optional: true }, ...config.policyPaths]);
  } catch (err) {
    throw new UsageError(`cannot load policies: ${(err as Error).message.replace(/^\[car:[^\]]*\] /, "")}`);
  }
}

/**
 * Opens the daemon-wide services: the policy files, then fs storage under `$CAR_HOME/state`
 * (locked, so two daemons never share it), or in-memory storage with `--ephemeral`; the memory
 * registry over that storage, with `memory.persist`/`memory.load` files confined to
 * `$CAR_HOME/memory` (kept in memory too with `--ephemeral`, so an ephemeral daemon writes no
 * memory to disk); the scheduler over that storage; the inference engine with the `--model`
 * folders (its `infer` also serves the memgine's skill repair, distill and evolve); session
 * journals under `$CAR_HOME/journals` unless `--ephemeral` or `--journal off`.
 */
export async function openDaemonServices(config: DaemonConfig): Promise<OpenServices> {
  const policyFiles = await readDaemonPolicies(config);
  const storage = config.ephemeral ? createMemoryStorage() : await createFsStorage({ root: join(config.carHome, "state") });
  const memoryRoot = join(config.carHome, "memory");
  const files = config.ephemeral ? storageFileStore(storage, { root: memoryRoot }) : createFsMemoryFileStore({ root: memoryRoot });
  let inference;
  try {
    inference = await openInferenceEngine(storage, config.models);
  } catch (err) {
    await storage.close();
    throw err;
  }
  const journals = sessionJournals(config);
  return {
    storage,
    journalFor: journals.journalFor,
    memory: new MemoryRegistry(storage, { files }),
    scheduler: new Scheduler({ storage }),
    policyFiles,
    inference,
    infer: engineInfer(inference),
    close: async () => {
      await journals.close();
      await inference.close();
      await storage.close();
    },
  };
}

/** Directory of the session journals under CAR_HOME. */
export const JOURNALS_DIR = "journals";

/**
 * Session journals: `$CAR_HOME/journals/<session-id>.log`, fs append logs opened on first write
 * (a session that records nothing leaves no file), fsynced per write unless `--journal buffered`.
 * `close()` closes the ones still open (sessions close their own when they end).
 */
function sessionJournals(config: DaemonConfig): { journalFor: DaemonServices["journalFor"]; close(): Promise<void> } {
  if (config.ephemeral || config.journal === "off") return { journalFor: undefined, close: async () => {} };
  const open = new Set<AppendLog>();
  const dir = join(config.carHome, JOURNALS_DIR);
  const sync = config.journal === "fsync";
  return {
    journalFor: (sessionId) => {
      const log = lazyAppendLog(() => createFsAppendLog({ path: join(dir, `${sessionId}.log`), sync }));
      open.add(log);
      return { ...log, close: () => (open.delete(log), log.close()) };
    },
    close: async () => {
      await Promise.allSettled([...open].map((log) => log.close()));
    },
  };
}
