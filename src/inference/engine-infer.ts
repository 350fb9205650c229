/** A plain `prompt → text` function over the engine, for features that need a model (memgine distill, evolve, repair). */
import type { InferenceEngine } from "./engine.ts";
import type { GenerateRequest } from "./schemas.ts";

/** Fixed parts of every request `engineInfer` sends (model pin, sampling, limits). */
export type EngineInferDefaults = Omit<Partial<GenerateRequest>, "prompt" | "messages">;

/** What `engineInfer` returns: the same shape as the memgine's `infer` hook, plus an optional signal. */
export type InferFn = (prompt: string, options?: { signal?: AbortSignal }) => Promise<string>;

/**
 * Returns `(prompt) => text`: one `infer` on the engine, greedy unless `defaults` say otherwise,
 * routed like any request without a model pin. Rejects with the engine's CarError (`not_found`
 * when no available model can generate, `unsupported` when the backend cannot run here), so
 * callers can fall back to their heuristics.
 */
export function engineInfer(engine: InferenceEngine, defaults: EngineInferDefaults = {}): InferFn {
  return async (prompt, options = {}) => {
    const result = await engine.generate({ temperature: 0, ...defaults, prompt }, options.signal ? { signal: options.signal } : {});
    return result.text;
  };
}
