/**
 * The delegated-runner slot: models with `source.type: "delegated"` are served by a client that
 * called `inference.register_runner`. The engine sends `inference.runner.invoke {call_id, request}`
 * through the sender the daemon registered, and the client answers with
 * `inference.runner.event|complete|fail` (reference §9 "Delegated runner pattern").
 */
import { z } from "zod";
import { CanceledError, CarError, TimeoutError, messageOf } from "../errors.ts";
import { reasonOf, type Clock } from "../engine/clock.ts";
import { hexId, type Random } from "../engine/random.ts";
import { StreamEvent, ModelToolCall, type GenerateRequest } from "./schemas.ts";

/** What the daemon sends to the runner's connection. */
export type RunnerInvoke = { call_id: string; request: GenerateRequest };
export type RunnerSender = (invoke: RunnerInvoke) => void;

export const RunnerEventParams = z.object({ call_id: z.string().min(1), event: z.unknown() });
export const RunnerCompleteParams = z.object({
  call_id: z.string().min(1),
  result: z.object({ text: z.string().default(""), tool_calls: z.array(ModelToolCall).default([]) }).default({ text: "", tool_calls: [] }),
});
export const RunnerFailParams = z.object({ call_id: z.string().min(1), error: z.unknown() });

type Pending = {
  sessionId: string;
  text: string;
  streamed: boolean;
  onEvent: (e: StreamEvent) => void;
  resolve: (r: { text: string; tool_calls: ModelToolCall[] }) => void;
  reject: (e: unknown) => void;
};

export class RunnerSlot {
  private readonly runners = new Map<string, RunnerSender>();
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly clock: Clock, private readonly random: Random, private readonly timeoutMs: number) {}

  /** Registers the session's runner (one per session; re-registering replaces it). */
  register(sessionId: string, send: RunnerSender): void {
    this.runners.delete(sessionId);
    this.runners.set(sessionId, send);
  }

  /** Drops a session's runner (its connection closed) and fails its calls in flight. */
  unregister(sessionId: string): void {
    this.runners.delete(sessionId);
    for (const [id, p] of this.pending) {
      if (p.sessionId !== sessionId) continue;
      this.pending.delete(id);
      p.reject(new CarError("unsupported", "inference:runner", "runner disconnected before completing the call"));
    }
  }

  has(): boolean {
    return this.runners.size > 0;
  }

  /** Delegates one generation to the most recently registered runner. */
  invoke(request: GenerateRequest, onEvent: (e: StreamEvent) => void, signal?: AbortSignal): Promise<{ text: string; tool_calls: ModelToolCall[] }> {
    const last = [...this.runners].at(-1);
    if (!last) return Promise.reject(new CarError("unsupported", "inference:runner", "no runner registered (a client must call inference.register_runner)"));
    if (signal?.aborted) return Promise.reject(new CanceledError("inference:runner", reasonOf(signal)));
    const [sessionId, send] = last;
    const callId = `run-${hexId(this.random, 16)}`;
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.pending.delete(callId);
        cancelTimer();
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        cleanup();
        reject(new CanceledError("inference:runner", reasonOf(signal!)));
      };
      const cancelTimer = this.clock.setTimer(this.timeoutMs, () => {
        cleanup();
        reject(new TimeoutError("inference:runner", `runner call ${callId}`, this.timeoutMs));
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(callId, {
        sessionId, text: "", streamed: false, onEvent,
        resolve: (r) => { cleanup(); resolve(r); },
        reject: (e) => { cleanup(); reject(e); },
      });
      try {
        send({ call_id: callId, request });
      } catch (err) {
        this.pending.get(callId)?.reject(new CarError("internal", "inference:runner", `could not reach the runner: ${messageOf(err)}`));
      }
    });
  }

  /** `inference.runner.event`: one stream event of a call. */
  event(sessionId: string, params: unknown): { ok: true } {
    const { call_id, event } = RunnerEventParams.parse(params);
    const p = this.call(sessionId, call_id);
    const parsed = StreamEvent.safeParse(event);
    if (!parsed.success) throw new CarError("invalid_input", "inference:runner", "unrecognised runner event shape");
    const e = parsed.data;
    if (e.type === "text") {
      p.text += e.data;
      p.streamed = true;
    }
    if (e.type === "done") {
      p.resolve({ text: p.streamed ? p.text : e.text, tool_calls: e.tool_calls });
      return { ok: true };
    }
    p.onEvent(e);
    return { ok: true };
  }

  /** `inference.runner.complete`: terminal; text already streamed wins over `result.text`. */
  complete(sessionId: string, params: unknown): { ok: true } {
    const { call_id, result } = RunnerCompleteParams.parse(params);
    const p = this.call(sessionId, call_id);
    p.resolve({ text: p.streamed ? p.text : result.text, tool_calls: result.tool_calls });
    return { ok: true };
  }

  /** `inference.runner.fail`: terminal error. */
  fail(sessionId: string, params: unknown): { ok: true } {
    const { call_id, error } = RunnerFailParams.parse(params);
    const p = this.call(sessionId, call_id);
    const msg = typeof error === "string" ? error : messageOf(error);
    p.reject(new CarError("tool_error", "inference:runner", `runner failed: ${msg}`));
    return { ok: true };
  }

  private call(sessionId: string, callId: string): Pending {
    const p = this.pending.get(callId);
    if (!p || p.sessionId !== sessionId) throw new CarError("not_found", "inference:runner", `unknown call_id '${callId}'`);
    return p;
  }
}
