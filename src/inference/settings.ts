/** Limits of the inference engine: every one a named setting with a documented default. */
import { z } from "zod";

export const InferenceSettings = z.object({
  /** Generations/embeddings running at once (env `CAR_INFERENCE_MAX_CONCURRENT`). */
  maxConcurrent: z.number().int().min(1).max(64).default(1),
  /** Requests waiting for a permit; more are refused with `overloaded`. */
  maxQueued: z.number().int().min(0).default(64),
  /** Whether `maxConcurrent` came from the environment (reported by `admission.status`). */
  envOverride: z.boolean().default(false),
  /** `max_tokens` when a request gives none. */
  defaultMaxTokens: z.number().int().positive().default(256),
  /** Largest `max_tokens` accepted. */
  maxTokensLimit: z.number().int().positive().default(4096),
  /** Largest number of texts in one `embed`, documents in one `rerank`, labels in one `classify`. */
  maxBatchItems: z.number().int().positive().default(256),
  /** Largest prompt/text accepted, in characters. */
  maxInputChars: z.number().int().positive().default(1_000_000),
  /** How long a delegated runner may take to complete a call. */
  runnerTimeoutMs: z.number().int().positive().default(300_000),
  /** Stop sequences per request. */
  maxStopSequences: z.number().int().nonnegative().default(16),
});
export type InferenceSettings = z.infer<typeof InferenceSettings>;
export type InferenceSettingsInput = z.input<typeof InferenceSettings>;

/**
 * Settings from environment variables (the runtime entry point passes its environment as a plain object):
 * `CAR_INFERENCE_MAX_CONCURRENT` wins; else one permit per 8 GiB of `totalMemoryBytes` (1..8), as
 * the reference does; else the default.
 */
export function inferenceSettingsFromEnv(env: Record<string, string | undefined>, totalMemoryBytes?: number): InferenceSettingsInput {
  const raw = env.CAR_INFERENCE_MAX_CONCURRENT?.trim();
  const n = raw ? Number(raw) : NaN;
  if (Number.isInteger(n) && n >= 1) return { maxConcurrent: Math.min(n, 64), envOverride: true };
  if (totalMemoryBytes) return { maxConcurrent: Math.max(1, Math.min(8, Math.floor(totalMemoryBytes / 8 / 2 ** 30))) };
  return {};
}
