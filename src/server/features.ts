import type { InferenceFn } from "../memgine/core.ts";
import { MemoryRegistry } from "../memgine/registry.ts";
import { storageFileStore } from "../memgine/file-store.ts";
import type { AppendLog, Storage } from "../storage/storage.ts";
import type { ServerMethodTable, Session } from "./context.ts";
import { memoryServerMethods } from "./methods/memory.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { multiServerMethods, schedulerServerMethods } from "./methods/multi.ts";
import { applyDaemonPolicies, governanceMethods, type PolicySource } from "./governance/index.ts";
import type { InferenceEngine } from "../inference/engine.ts";
import { inferenceServerMethods } from "./methods/inference.ts";

/**
 * Daemon-wide services the feature modules share across sessions. A runtime entry point builds
 * them (fs storage under CAR_HOME, or memory with --ephemeral) and hands them to `featureMethods`.
 */
export interface DaemonServices {
  /** Daemon-wide key-value storage: memory graphs, scheduler tasks, checkpoints, model registry. */
  storage: Storage;
  /** One memory graph per scope (memory_namespace > agent_id > shared) over `storage`. */
  memory: MemoryRegistry;
  /**
   * Hook for the inference feature: the text-in, text-out model call that skill repair, distill
   * and evolve use. Read at each call, so it may be set after start; unset, those methods answer
   * -32603 with `data.car_code: "unsupported"` ("… needs an inference function; none is configured").
   */
  infer?: InferenceFn | undefined;
  /** The daemon's one task scheduler, over `storage` (tasks and occurrence dedup survive a restart). */
  scheduler: Scheduler;
  /** Policy files read at start (`--policy`, `$CAR_HOME/policies`); every session gets them. */
  policyFiles?: readonly PolicySource[];
  /** The inference engine (models, backends, admission, runners); without it the inference methods answer -32601. */
  inference?: InferenceEngine;
  /**
   * The journal of a session's Runtime (durable execution, docs/durability.md): the daemon gives
   * `$CAR_HOME/journals/<session-id>.log`, undefined with `--ephemeral` or `--journal off`. Pass it
   * to `createApp({journalFor})`, which closes it when the session ends.
   */
  journalFor?: (sessionId: string) => AppendLog | undefined;
}

/**
 * The method tables of every feature built into the daemon, added after the core methods.
 * Each feature module contributes one table; a method not registered anywhere answers -32601.
 */
export function featureMethods(services: DaemonServices): ServerMethodTable[] {
  const { inference } = services;
  return [governanceMethods(services), memoryServerMethods(services), multiServerMethods(), schedulerServerMethods(services.scheduler), ...(inference ? [inferenceServerMethods(() => inference)] : [])];
}

/** Prepares each new session for the features before its first request (`createApp({hooks: {sessionOpened}})`). */
export function featureSessionSetup(services: DaemonServices): (session: Session) => void {
  return (session) => {
    applyDaemonPolicies(session, services.policyFiles ?? []);
  };
}

/** Services over one storage with every default filled in (memory files kept in that storage): for tests and embedders. */
export function daemonServicesOver(storage: Storage, extra: Partial<DaemonServices> = {}): DaemonServices {
  return { storage, memory: new MemoryRegistry(storage, { files: storageFileStore(storage) }), scheduler: new Scheduler({ storage }), ...extra };
}
