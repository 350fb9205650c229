import type { Scheduler } from "../scheduler/scheduler.ts";
import type { Storage } from "../storage/storage.ts";
import type { ServerMethodTable } from "./context.ts";
import { multiServerMethods, schedulerServerMethods } from "./methods/multi.ts";

/**
 * Daemon-wide services the feature modules share across sessions. A runtime entry point builds
 * them (fs storage under CAR_HOME, or memory with --ephemeral) and hands them to `featureMethods`.
 */
export interface DaemonServices {
  /** Daemon-wide key-value storage: memory graphs, scheduler tasks, checkpoints, model registry. */
  storage: Storage;
  /** The daemon's one task scheduler, over `storage` (tasks and occurrence dedup survive a restart). */
  scheduler: Scheduler;
}

/**
 * The method tables of every feature built into the daemon, added after the core methods.
 * Each feature module contributes one table; a method not registered anywhere answers -32601.
 */
export function featureMethods(services: DaemonServices): ServerMethodTable[] {
  return [multiServerMethods(), schedulerServerMethods(services.scheduler)];
}
