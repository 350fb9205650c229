/** One generation on a loaded model or a delegated runner, turned into wire events and a result. */
import { CarError } from "../errors.ts";
import type { Clock } from "../engine/clock.ts";
import type { Random } from "../engine/random.ts";
import type { LoadedModel } from "./backend.ts";
import type { ModelSchema } from "./model-schemas.ts";
import type { RunnerSlot } from "./runner.ts";
import type { InferenceSettings } from "./settings.ts";
import type { StopSequenceFilter } from "./stop-sequences.ts";
import type { ChatMessage, GenerateRequest, GenerateResult, StreamEvent, Usage } from "./schemas.ts";

/** Sampling temperature when a request names none. */
export const DEFAULT_TEMPERATURE = 0.7;

export interface GenerateContext {
  clock: Clock;
  settings: InferenceSettings;
  traceId: string;
  random: Random;
  stop: StopSequenceFilter;
  emit: (e: StreamEvent) => void;
}

/** The messages a request stands for: `system`, then `messages`, then `prompt` as a user turn. */
export function messagesOf(req: GenerateRequest): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (req.system) out.push({ role: "system", content: req.system });
  out.push(...(req.messages ?? []));
  if (req.prompt !== undefined) out.push({ role: "user", content: req.prompt });
  return out;
}

function usageOf(input: number, output: number): Usage {
  return { prompt_tokens: input, completion_tokens: output, total_tokens: input + output, input_tokens: input, output_tokens: output, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
}

/** Runs the request on `target` and returns the `infer` result; events go to `ctx.emit`. */
export async function runGenerate(ctx: GenerateContext, req: GenerateRequest, model: ModelSchema, target: { loaded?: LoadedModel; runner?: RunnerSlot }, signal?: AbortSignal): Promise<GenerateResult> {
  const { settings, clock } = ctx;
  const maxTokens = req.max_tokens ?? Math.min(settings.defaultMaxTokens, settings.maxTokensLimit, model.max_output_tokens ?? Infinity);
  if (maxTokens > settings.maxTokensLimit) throw new CarError("invalid_input", "inference", `max_tokens ${maxTokens} exceeds maxTokensLimit ${settings.maxTokensLimit}`);
  const stops = typeof req.stop === "string" ? [req.stop] : (req.stop ?? []);
  if (stops.length > settings.maxStopSequences) throw new CarError("invalid_input", "inference", `${stops.length} stop sequences exceed maxStopSequences ${settings.maxStopSequences}`);
  const started = clock.now();
  let firstAt: number | null = null;
  let text = "";
  const onText = (delta: string): boolean => {
    const { emit, stopped } = ctx.stop.push(delta);
    if (emit) {
      firstAt ??= clock.now();
      text += emit;
      ctx.emit({ type: "text", data: emit });
    }
    return !stopped;
  };
  let stopReason: string;
  let usage: Usage | null = null;
  let toolCalls: GenerateResult["tool_calls"] = [];
  if (target.runner) {
    const r = await target.runner.invoke({ ...req, model: model.id }, (e) => {
      if (e.type === "text") onText(e.data);
      else {
        if (e.type === "usage") usage = usageOf(e.input_tokens, e.output_tokens);
        ctx.emit(e);
      }
    }, signal);
    if (!text && r.text) onText(r.text);
    toolCalls = r.tool_calls;
    stopReason = toolCalls.length ? "tool_use" : "end_turn";
  } else {
    const lm = target.loaded!;
    const r = await lm.generate({
      messages: messagesOf(req),
      maxTokens,
      temperature: req.temperature ?? DEFAULT_TEMPERATURE,
      topK: req.top_k ?? 0,
      topP: req.top_p ?? 1,
      random: ctx.random,
    }, onText, signal);
    usage = usageOf(r.inputTokens, r.outputTokens);
    stopReason = r.stopReason;
    ctx.emit({ type: "usage", input_tokens: r.inputTokens, output_tokens: r.outputTokens, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  }
  const rest = ctx.stop.flush();
  if (rest) {
    firstAt ??= clock.now();
    text += rest;
    ctx.emit({ type: "text", data: rest });
  }
  if (ctx.stop.hit) stopReason = "stop_sequence";
  ctx.emit({ type: "stop_reason", data: stopReason });
  return {
    text,
    tool_calls: toolCalls,
    usage,
    model_used: model.id,
    trace_id: ctx.traceId,
    latency_ms: clock.now() - started,
    time_to_first_token_ms: firstAt === null ? null : firstAt - started,
    stop_reason: stopReason,
  };
}
