/** Wire shapes of the model registry: `models.*` params and results (reference §9). */
import { z } from "zod";
import { IntentHint, ModelCapability } from "./schemas.ts";

/**
 * Where a model runs. `local` models are loaded by a backend from `path` (a folder) or `url`;
 * `delegated` models are served by a client that called `inference.register_runner`.
 */
export const ModelSource = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("local"),
    path: z.string().min(1).optional(),
    url: z.string().url().optional(),
    backend: z.string().min(1).default("webgpu"),
    /** The compiled model library (.wasm) of an MLC model (backend `web-llm`). */
    model_lib: z.string().optional(),
  }),
  z.object({ type: z.literal("delegated") }),
  z.object({ type: z.literal("remote_api"), endpoint: z.string().optional() }),
  z.object({ type: z.enum(["ollama", "mlx", "vllm_mlx", "apple_foundation_models", "proprietary"]) }),
]);
export type ModelSource = z.infer<typeof ModelSource>;

export const ModelCost = z.object({
  input_per_mtok: z.number().nullable(),
  output_per_mtok: z.number().nullable(),
});

export const ModelSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  provider: z.string().default("local"),
  family: z.string().default("unknown"),
  capabilities: z.array(ModelCapability).default(["generate"]),
  source: ModelSource,
  context_length: z.number().int().positive().default(2048),
  max_output_tokens: z.number().int().positive().optional(),
  param_count: z.number().int().nonnegative().optional(),
  size_mb: z.number().nonnegative().optional(),
  cost: ModelCost.optional(),
  trust_tier: z.enum(["builtin", "verified", "community"]).default("community"),
});
export type ModelSchema = z.infer<typeof ModelSchema>;
export type ModelSchemaInput = z.input<typeof ModelSchema>;

export const UnifiedModelRow = z.object({
  id: z.string(),
  name: z.string(),
  provider: z.string(),
  capabilities: z.array(ModelCapability),
  param_count: z.number().nullable(),
  size_mb: z.number().nullable(),
  context_length: z.number(),
  available: z.boolean(),
  is_local: z.boolean(),
  weights_ready: z.boolean(),
  downloads_weights: z.boolean(),
  max_output_tokens: z.number().nullable(),
  public_benchmarks: z.array(z.unknown()),
  cost: z.object({ input_per_mtok: z.number().nullable(), output_per_mtok: z.number().nullable(), pricing_tiers: z.array(z.unknown()) }),
});
export type UnifiedModelRow = z.infer<typeof UnifiedModelRow>;

export const ModelIdParams = z.object({ id: z.string().min(1) });
export const RegisterModelParams = ModelSchema;

export const PullProgress = z.object({
  model_id: z.string(),
  phase: z.enum(["config", "tokenizer", "weights", "upload", "ready"]),
  loaded_bytes: z.number().nonnegative(),
  total_bytes: z.number().nonnegative().nullable(),
  done: z.boolean(),
});
export type PullProgress = z.infer<typeof PullProgress>;

export const RouteParams = z.object({ prompt: z.string(), intent: IntentHint.optional() });
export const RouteCandidate = z.object({ model_id: z.string(), reliability: z.number(), score: z.number(), selected: z.boolean(), in_band: z.boolean() });
export const RouteResult = z.object({
  model_id: z.string(),
  model_name: z.string(),
  task: z.string(),
  complexity: z.enum(["simple", "moderate", "complex"]),
  reason: z.string(),
  strategy: z.string(),
  predicted_quality: z.number(),
  fallbacks: z.array(z.string()),
  context_length: z.number(),
  needs_compaction: z.boolean(),
  candidates: z.array(RouteCandidate),
});
export type RouteResult = z.infer<typeof RouteResult>;

export const ModelProfile = z.object({
  model_id: z.string(),
  total_calls: z.number().int(),
  success_count: z.number().int(),
  fail_count: z.number().int(),
  success_rate: z.number().nullable(),
  avg_latency_ms: z.number(),
  ema_quality: z.number(),
});
export type ModelProfile = z.infer<typeof ModelProfile>;
