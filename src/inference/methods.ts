/**
 * The daemon's inference methods as a table: wire name → params schema → handler. The daemon
 * validates params with the schema, then calls the handler with a per-request context.
 */
import { z } from "zod";
import type { InferenceEngine } from "./engine.ts";
import { ClassifyParams, DetokenizeParams, EmbedParams, GenerateRequest, RerankParams, TokenizeParams } from "./schemas.ts";
import { ModelIdParams, RegisterModelParams, RouteParams } from "./model-schemas.ts";
import { RunnerCompleteParams, RunnerEventParams, RunnerFailParams } from "./runner.ts";

/** What the daemon gives each handler. */
export interface InferenceMethodContext {
  /** Aborted when the client cancels or disconnects. */
  signal: AbortSignal;
  /** Identifies the connection (runner registration is per connection). */
  sessionId: string;
  /** The JSON-RPC id of the request (echoed in `inference.stream.event`). */
  requestId: string | number;
  /** Sends a notification to this connection. */
  notify(method: string, params: unknown): void;
}

export interface InferenceMethod<S extends z.ZodType = z.ZodType> {
  params: S;
  handler(params: z.infer<S>, ctx: InferenceMethodContext): Promise<unknown> | unknown;
}

function method<S extends z.ZodType>(params: S, handler: (params: z.infer<S>, ctx: InferenceMethodContext) => Promise<unknown> | unknown): InferenceMethod {
  return { params, handler } as InferenceMethod;
}

const Empty = z.object({}).optional();

/**
 * `infer`, `infer_stream`, `embed`, `classify`, `rerank`, `tokenize`, `detokenize`, `models.*`,
 * `admission.status` and `inference.register_runner|runner.event|runner.complete|runner.fail`.
 * The daemon must call `getEngine().runners.unregister(sessionId)` when a connection closes.
 */
export function inferenceMethods(getEngine: () => InferenceEngine): Record<string, InferenceMethod> {
  const e = getEngine;
  return {
    infer: method(GenerateRequest, (p, ctx) => e().generate(p, { signal: ctx.signal })),
    infer_stream: method(GenerateRequest, (p, ctx) =>
      e().generate(p, { signal: ctx.signal, onEvent: (event) => ctx.notify("inference.stream.event", { request_id: ctx.requestId, event }) })),
    embed: method(EmbedParams, (p, ctx) => e().embed(p, { signal: ctx.signal })),
    classify: method(ClassifyParams, (p, ctx) => e().classify(p, { signal: ctx.signal })),
    rerank: method(RerankParams, (p, ctx) => e().rerank(p, { signal: ctx.signal })),
    tokenize: method(TokenizeParams, (p, ctx) => e().tokenize(p, { signal: ctx.signal })),
    detokenize: method(DetokenizeParams, (p, ctx) => e().detokenize(p, { signal: ctx.signal })),
    "models.list": method(Empty, () => ({ models: e().registry.list() })),
    "models.list_unified": method(Empty, () => ({ models: e().registry.listUnified(e().isAvailable) })),
    "models.register": method(RegisterModelParams, async (p) => ({ registered: true, model: await e().registry.register(p) })),
    "models.remove": method(ModelIdParams, async (p) => ({ removed: await e().registry.remove(p.id) })),
    "models.unregister": method(ModelIdParams, async (p) => ({ removed: await e().registry.remove(p.id) })),
    "models.pull": method(ModelIdParams, (p, ctx) => e().pull(p.id, { signal: ctx.signal, onProgress: (progress) => ctx.notify("models.pull_progress", progress) })),
    "models.route": method(RouteParams, (p) => e().route(p)),
    "models.stats": method(Empty, () => ({ profiles: e().stats.all() })),
    "admission.status": method(Empty, () => e().admission.status()),
    "inference.register_runner": method(Empty, (_p, ctx) => {
      e().runners.register(ctx.sessionId, (invoke) => ctx.notify("inference.runner.invoke", invoke));
      return { registered: true };
    }),
    "inference.runner.event": method(RunnerEventParams, (p, ctx) => e().runners.event(ctx.sessionId, p)),
    "inference.runner.complete": method(RunnerCompleteParams, (p, ctx) => e().runners.complete(ctx.sessionId, p)),
    "inference.runner.fail": method(RunnerFailParams, (p, ctx) => e().runners.fail(ctx.sessionId, p)),
  };
}
