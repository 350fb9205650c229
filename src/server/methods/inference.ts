/**
 * The inference methods on the daemon: the engine's table (`inferenceMethods`, src/inference/methods.ts)
 * mounted as server methods, plus what only the server knows: which connection a notification goes
 * to, runner cleanup when a connection closes, and the `infer.progress` heartbeat.
 */
import { systemClock, type Clock } from "../../engine/clock.ts";
import type { InferenceEngine } from "../../inference/engine.ts";
import { inferenceMethods, type InferenceMethodContext } from "../../inference/methods.ts";
import { method, type MethodContext, type ServerMethodTable } from "../context.ts";

/** Every `infer` sends `infer.progress {id}` this often while it runs (reference §1.6: ~10 s). */
export const INFER_PROGRESS_INTERVAL_MS = 10_000;

export interface InferenceServerOptions {
  /** Heartbeat period of `infer.progress`; 0 turns it off. Default `INFER_PROGRESS_INTERVAL_MS`. */
  progressIntervalMs?: number;
  clock?: Clock;
}

/** Methods that only make sense on a WebSocket: their answer is notifications, or this connection is the runner. */
const WEBSOCKET_ONLY = new Set(["infer_stream", "inference.register_runner", "inference.runner.event", "inference.runner.complete", "inference.runner.fail"]);

const RUNNER_CLEANUP = "inference.runner";

/**
 * `infer`, `infer_stream` (+ `inference.stream.event`), `embed`, `classify`, `rerank`, `tokenize`,
 * `detokenize`, `models.*` (+ `models.pull_progress`), `admission.status` and the delegated-runner
 * methods (+ `inference.runner.invoke` to the runner's connection). `getEngine` is called per request.
 */
export function inferenceServerMethods(getEngine: () => InferenceEngine, options: InferenceServerOptions = {}): ServerMethodTable {
  const clock = options.clock ?? systemClock;
  const interval = options.progressIntervalMs ?? INFER_PROGRESS_INTERVAL_MS;
  const table: ServerMethodTable = {};
  for (const [name, entry] of Object.entries(inferenceMethods(getEngine))) {
    const extra = WEBSOCKET_ONLY.has(name) ? { http: false } : {};
    table[name] = method(entry.params, (params, ctx) => {
      if (name === "inference.register_runner") unregisterOnClose(ctx, getEngine);
      const run = () => entry.handler(params, engineContext(ctx));
      return name === "infer" && interval > 0 ? withHeartbeat(ctx, clock, interval, run) : run();
    }, extra);
  }
  return table;
}

function engineContext(ctx: MethodContext): InferenceMethodContext {
  return { signal: ctx.signal, sessionId: ctx.sessionId, requestId: ctx.requestId, notify: (m, p) => ctx.session.notify(m, p) };
}

/** A runner dies with its connection: its calls in flight fail at once instead of waiting for the runner timeout. */
function unregisterOnClose(ctx: MethodContext, getEngine: () => InferenceEngine): void {
  if (ctx.session.data.has(RUNNER_CLEANUP)) return;
  const sessionId = ctx.sessionId;
  ctx.session.data.set(RUNNER_CLEANUP, ctx.session.onClose(() => getEngine().runners.unregister(sessionId)));
}

/** Runs `fn`, notifying `infer.progress {id}` every `ms` until it settles. */
async function withHeartbeat(ctx: MethodContext, clock: Clock, ms: number, fn: () => unknown): Promise<unknown> {
  let cancel = () => {};
  const tick = () => {
    ctx.session.notify("infer.progress", { id: ctx.requestId });
    cancel = clock.setTimer(ms, tick);
  };
  cancel = clock.setTimer(ms, tick);
  try {
    return await fn();
  } finally {
    cancel();
  }
}
