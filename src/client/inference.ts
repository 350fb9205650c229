/** Client-side types of the inference methods and the delegated-runner loop of `CarClient.registerRunner`. */
import type { z } from "zod";
import { messageOf } from "../errors.ts";
import type { ClassifyParams, DetokenizeParams, EmbedParams, GenerateRequest, GenerateResult, ModelToolCall, RerankParams, StreamEvent, TokenizeParams } from "../inference/schemas.ts";
import type { ModelSchema, ModelSchemaInput, RouteParams } from "../inference/model-schemas.ts";

export type { AdmissionStatus, ClassifyResult, DetokenizeResult, EmbedResult, GenerateRequest, GenerateResult, ModelToolCall, RerankResult, StreamEvent, TokenizeResult } from "../inference/schemas.ts";
export type { ModelProfile, ModelSchema, PullProgress, RouteResult, UnifiedModelRow } from "../inference/model-schemas.ts";

/** `infer` / `infer_stream` params as a client writes them (`prompt` or `messages`, optional sampling). */
export type InferParams = z.input<typeof GenerateRequest>;
export type EmbedParamsInput = z.input<typeof EmbedParams>;
export type ClassifyParamsInput = z.input<typeof ClassifyParams>;
export type RerankParamsInput = z.input<typeof RerankParams>;
export type TokenizeParamsInput = z.input<typeof TokenizeParams>;
export type DetokenizeParamsInput = z.input<typeof DetokenizeParams>;
export type RouteParamsInput = z.input<typeof RouteParams>;
export type RegisterModelInput = ModelSchemaInput;
/** A stream event as a runner may send it (`usage` cache counts default to 0). */
export type StreamEventInput = z.input<typeof StreamEvent>;

/** The `infer_stream` answer: the final result plus every `inference.stream.event` of the request, in order. */
export type InferStreamResult = GenerateResult & { events: StreamEvent[] };

/** `models.register` / `models.remove` / `models.pull` results. */
export type ModelsRegisterResult = { registered: true; model: ModelSchema };
export type ModelsRemoveResult = { removed: boolean };
export type ModelsPullResult = { model_id: string; weights_ready: boolean; size_mb: number };

/** `inference.runner.invoke` params: one generation the daemon delegates to this client. */
export interface RunnerInvoke {
  call_id: string;
  request: GenerateRequest;
}

/** What a runner handler returns: the text, or `{text, tool_calls}`; nothing when it streamed the text through `emit`. */
export type RunnerOutput = string | { text?: string; tool_calls?: ModelToolCall[] } | void | undefined;

/**
 * Serves one delegated generation. `emit` sends an `inference.runner.event` (text deltas, usage, …);
 * the returned value completes the call (`inference.runner.complete`); a throw fails it
 * (`inference.runner.fail`). Streamed text wins over the returned text, as on the daemon.
 */
export type RunnerHandler = (request: GenerateRequest, call: { call_id: string; emit(event: StreamEventInput): Promise<void> }) => RunnerOutput | Promise<RunnerOutput>;

/** Runs `handler` for one invoke and reports its outcome through `send` (the client's `request`). */
export async function serveRunnerCall(send: (method: string, params: unknown) => Promise<unknown>, handler: RunnerHandler, invoke: RunnerInvoke): Promise<void> {
  const { call_id } = invoke;
  // Events are sent in order without waiting for each answer; the daemon handles them in arrival order.
  const sent: Promise<unknown>[] = [];
  const emit = (event: StreamEventInput) => {
    const p = send("inference.runner.event", { call_id, event });
    sent.push(p);
    return p.then(() => undefined);
  };
  try {
    const out = await handler(invoke.request, { call_id, emit });
    await Promise.all(sent);
    const result = typeof out === "string" ? { text: out, tool_calls: [] } : { text: out?.text ?? "", tool_calls: out?.tool_calls ?? [] };
    await send("inference.runner.complete", { call_id, result });
  } catch (err) {
    await Promise.allSettled(sent);
    // The call may be gone already (daemon timeout, caller canceled, connection lost): nothing left to tell.
    await send("inference.runner.fail", { call_id, error: messageOf(err) }).catch(() => {});
  }
}
