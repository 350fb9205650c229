/**
 * Wire shapes of the inference methods (reference §9), snake_case as on the wire.
 * Objects strip unknown fields instead of failing: clients may send newer fields.
 */
import { z } from "zod";

export const ModelCapability = z.enum([
  "generate", "embed", "rerank", "classify", "code", "reasoning", "summarize", "tool_use", "multi_tool_call",
  "vision", "video_understanding", "audio_understanding", "grounding", "speech_to_text", "text_to_speech",
  "image_generation", "video_generation",
]);
export type ModelCapability = z.infer<typeof ModelCapability>;

const TextPart = z.object({ type: z.string(), text: z.string().optional() });

/** One chat message; array content keeps only its text parts. */
export const ChatMessage = z.object({
  role: z.enum(["system", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(TextPart)]).transform((c) => (typeof c === "string" ? c : c.map((p) => p.text ?? "").join(""))),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const IntentHint = z.object({
  task: z.enum(["chat", "classify", "summarize", "reasoning", "code", "extract"]).optional(),
  prefer_local: z.boolean().optional(),
  prefer_fast: z.boolean().optional(),
  prefer_quality: z.boolean().optional(),
  high_stakes: z.boolean().optional(),
  require: z.array(ModelCapability).optional(),
  exclude_models: z.array(z.string()).optional(),
  strict_exclusions: z.boolean().optional(),
});
export type IntentHint = z.infer<typeof IntentHint>;

/** `infer` / `infer_stream` params. `prompt` is a shorthand for one user message. */
export const GenerateRequest = z
  .object({
    model: z.string().min(1).nullish(),
    messages: z.array(ChatMessage).optional(),
    prompt: z.string().optional(),
    system: z.string().optional(),
    max_tokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(100).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    top_k: z.number().int().nonnegative().optional(),
    seed: z.number().int().nonnegative().optional(),
    stop: z.union([z.string(), z.array(z.string())]).optional(),
    tools: z.array(z.unknown()).optional(),
    tool_choice: z.unknown().optional(),
    response_format: z.unknown().optional(),
    intent: IntentHint.optional(),
    client_ref: z.string().optional(),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((r) => (r.messages && r.messages.length > 0) || r.prompt !== undefined, { message: "messages or prompt is required" });
export type GenerateRequest = z.infer<typeof GenerateRequest>;

export const ModelToolCall = z.object({ id: z.string().optional(), name: z.string(), arguments: z.unknown() });
export type ModelToolCall = z.infer<typeof ModelToolCall>;

export const Usage = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cache_read_input_tokens: z.number().int(),
  cache_creation_input_tokens: z.number().int(),
});
export type Usage = z.infer<typeof Usage>;

export const StopReason = z.enum(["end_turn", "max_tokens", "stop_sequence", "tool_use"]);
export type StopReason = z.infer<typeof StopReason>;

export const GenerateResult = z.object({
  text: z.string(),
  tool_calls: z.array(ModelToolCall),
  usage: Usage.nullable(),
  model_used: z.string(),
  trace_id: z.string(),
  latency_ms: z.number(),
  time_to_first_token_ms: z.number().nullable(),
  stop_reason: z.string().nullable(),
});
export type GenerateResult = z.infer<typeof GenerateResult>;

/** Stream events with the reference's wire tags (`inference.stream.event` and runner events). */
export const StreamEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), data: z.string() }),
  z.object({ type: z.literal("tool_start"), name: z.string(), index: z.number().int().nonnegative(), id: z.string().optional() }),
  z.object({ type: z.literal("tool_delta"), index: z.number().int().nonnegative(), data: z.string() }),
  z.object({
    type: z.literal("usage"),
    input_tokens: z.number().int().nonnegative(),
    output_tokens: z.number().int().nonnegative(),
    cache_read_input_tokens: z.number().int().nonnegative().default(0),
    cache_creation_input_tokens: z.number().int().nonnegative().default(0),
  }),
  z.object({ type: z.literal("stop_reason"), data: z.string() }),
  z.object({ type: z.literal("provider_output_item"), item: z.unknown() }),
  z.object({ type: z.literal("error"), message: z.string() }),
  z.object({ type: z.literal("done"), text: z.string(), tool_calls: z.array(ModelToolCall).default([]) }),
]);
export type StreamEvent = z.infer<typeof StreamEvent>;

const modelRef = { model: z.string().min(1).nullish() };

export const EmbedParams = z.object({ texts: z.array(z.string()).min(1), ...modelRef });
export const EmbedResult = z.object({ embeddings: z.array(z.array(z.number())), model_used: z.string() });
export const ClassifyParams = z.object({ text: z.string(), labels: z.array(z.string().min(1)).min(1), ...modelRef });
export const ClassifyResult = z.object({ classifications: z.array(z.object({ label: z.string(), score: z.number() })), model_used: z.string() });
export const RerankParams = z.object({
  query: z.string(),
  documents: z.array(z.string()).min(1),
  top_n: z.number().int().positive().optional(),
  instruction: z.string().optional(),
  ...modelRef,
});
export const RerankResult = z.object({
  ranked: z.array(z.object({ index: z.number().int(), score: z.number(), document: z.string() })),
  model_used: z.string(),
});
export const TokenizeParams = z.object({ text: z.string(), ...modelRef });
export const TokenizeResult = z.object({ tokens: z.array(z.number().int()), count: z.number().int(), model_used: z.string() });
export const DetokenizeParams = z.object({ tokens: z.array(z.number().int().nonnegative()), ...modelRef });
export const DetokenizeResult = z.object({ text: z.string(), model_used: z.string() });
export type EmbedParams = z.infer<typeof EmbedParams>;
export type EmbedResult = z.infer<typeof EmbedResult>;
export type ClassifyParams = z.infer<typeof ClassifyParams>;
export type ClassifyResult = z.infer<typeof ClassifyResult>;
export type RerankParams = z.infer<typeof RerankParams>;
export type RerankResult = z.infer<typeof RerankResult>;
export type TokenizeParams = z.infer<typeof TokenizeParams>;
export type TokenizeResult = z.infer<typeof TokenizeResult>;
export type DetokenizeParams = z.infer<typeof DetokenizeParams>;
export type DetokenizeResult = z.infer<typeof DetokenizeResult>;

export const AdmissionStatus = z.object({
  permits_total: z.number().int(),
  permits_available: z.number().int(),
  permits_in_use: z.number().int(),
  queued: z.number().int(),
  env_override: z.boolean(),
});
export type AdmissionStatus = z.infer<typeof AdmissionStatus>;
