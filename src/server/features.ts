import type { InferenceEngine } from "../inference/engine.ts";
import type { Storage } from "../storage/storage.ts";
import type { ServerMethodTable } from "./context.ts";
import { inferenceServerMethods } from "./methods/inference.ts";

/**
 * Daemon-wide services the feature modules share across sessions. A runtime entry point builds
 * them (fs storage under CAR_HOME, or memory with --ephemeral) and hands them to `featureMethods`.
 */
export interface DaemonServices {
  /** Daemon-wide key-value storage: memory graphs, scheduler tasks, checkpoints, model registry. */
  storage: Storage;
  /** The inference engine (models, backends, admission, runners); without it the inference methods answer -32601. */
  inference?: InferenceEngine;
  /** One greedy generation on the inference engine (`engineInfer`), for features that need a model. */
  infer?: (prompt: string) => Promise<string>;
}

/**
 * The method tables of every feature built into the daemon, added after the core methods.
 * Each feature module contributes one table; a method not registered anywhere answers -32601.
 */
export function featureMethods(services: DaemonServices): ServerMethodTable[] {
  const { inference } = services;
  return [...(inference ? [inferenceServerMethods(() => inference)] : [])];
}
