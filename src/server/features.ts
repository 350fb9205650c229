import type { Storage } from "../storage/storage.ts";
import type { ServerMethodTable, Session } from "./context.ts";
import { applyDaemonPolicies, governanceMethods, type PolicySource } from "./governance/index.ts";

/**
 * Daemon-wide services the feature modules share across sessions. A runtime entry point builds
 * them (fs storage under CAR_HOME, or memory with --ephemeral) and hands them to `featureMethods`.
 */
export interface DaemonServices {
  /** Daemon-wide key-value storage: memory graphs, scheduler tasks, checkpoints, model registry. */
  storage: Storage;
  /** Policy files read at start (`--policy`, `$CAR_HOME/policies`); every session gets them. */
  policyFiles?: readonly PolicySource[];
}

/**
 * The method tables of every feature built into the daemon, added after the core methods.
 * Each feature module contributes one table; a method not registered anywhere answers -32601.
 */
export function featureMethods(services: DaemonServices): ServerMethodTable[] {
  return [governanceMethods(services)];
}

/** Prepares each new session for the features before its first request (`createApp({hooks: {sessionOpened}})`). */
export function featureSessionSetup(services: DaemonServices): (session: Session) => void {
  return (session) => {
    applyDaemonPolicies(session, services.policyFiles ?? []);
  };
}
