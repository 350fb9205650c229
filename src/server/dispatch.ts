import { CanceledError, TimeoutError } from "../errors.ts";
import type { Clock } from "../engine/clock.ts";
import { RpcCode, RpcError } from "../protocol/errors.ts";
import { parseParams, type MethodRegistry } from "../protocol/methods.ts";
import type { MethodContext, ServerInfo, Session } from "./context.ts";
import type { SessionEnd } from "./session-end.ts";

/** Methods a connection may call before `server.handshake` even when the handshake is required. */
const HANDSHAKE_EXEMPT = new Set(["session.auth", "server.handshake"]);

/** What one method invocation needs from its surroundings. */
export interface InvokeEnv {
  registry: MethodRegistry<MethodContext>;
  server: ServerInfo;
  session: Session;
  clock: Clock;
  /** Ends when the session ends or the server stops for good. */
  sessionEnd: SessionEnd;
  /** HTTP requests have no connection to handshake on, so they skip the handshake rule. */
  http?: boolean;
}

/** A started invocation: `result` answers the client; `settled` resolves once the handler itself stopped. */
export interface Invocation {
  result: Promise<unknown>;
  settled: Promise<void>;
}

/**
 * Looks up, validates and starts a method. Throws an RpcError synchronously for unknown methods
 * (-32601), a missing handshake (-32005) and bad params (-32602). The handler is called before
 * this returns, so state it sets synchronously (auth, handshake) is seen by the next frame.
 */
export function invoke(env: InvokeEnv, name: string, rawParams: unknown, requestId: string | number | null): Invocation {
  const entry = env.registry.require(name);
  if (env.http && entry.http === false) throw new RpcError(RpcCode.MethodNotFound, `method not found: ${name} is not available over HTTP; use the WebSocket endpoint`);
  const needsHandshake = entry.requiresHandshake === true || (env.server.settings.requireHandshake && !HANDSHAKE_EXEMPT.has(name));
  if (needsHandshake && !env.http && !env.session.handshaken) {
    throw new RpcError(RpcCode.HandshakeRequired, `protocol handshake required: call server.handshake {protocol_version: 2} before ${name}`);
  }
  const params = parseParams(name, entry, rawParams);
  const { settings } = env.server;
  const deadline = entry.deadlineMs?.(params, settings) ?? settings.handlerTimeoutMs;

  // The handler's AbortSignal is made only if the handler reads it (most handlers finish at once).
  let ctl: AbortController | undefined;
  let stopReason: { reason: unknown } | undefined;
  const stop = (reason: unknown) => {
    if (stopReason) return;
    stopReason = { reason };
    ctl?.abort(reason);
  };
  const unregister = env.sessionEnd.onEnd((reason) => stop(reason ?? new CanceledError("server", "session closed")));

  const ctx: MethodContext = {
    get signal(): AbortSignal {
      if (!ctl) {
        ctl = new AbortController();
        if (stopReason) ctl.abort(stopReason.reason);
      }
      return ctl.signal;
    },
    sessionId: env.session.id,
    requestId: requestId ?? "",
    notify: (m, p) => env.session.notify(m, p),
    session: env.session,
    server: env.server,
    hasMethod: (n) => env.registry.has(n),
    invokeMethod: (n, p) => {
      try {
        return invoke(env, n, p, requestId).result;
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };

  let running: Promise<unknown>;
  try {
    // Answered once whatever the request recorded is durable in the session's journal (if any).
    running = Promise.resolve(entry.handler(params, ctx)).then(async (value) => {
      await env.session.runtime.flushJournal();
      return value;
    });
  } catch (err) {
    running = Promise.reject(err);
  }

  let cancelTimer = () => {};
  const result = new Promise<unknown>((resolve, reject) => {
    cancelTimer = env.clock.setTimer(deadline, () => {
      stop(new TimeoutError("server", `handler of ${name}`, deadline));
      reject(new RpcError(RpcCode.DeadlineExceeded, `deadline exceeded: ${name} ran past the server deadline of ${deadline} ms; the outcome is ambiguous, reconcile with a read before retrying`, { deadline_ms: deadline }));
    });
    running.then(resolve, reject);
  });
  const done = () => {
    cancelTimer();
    unregister();
  };
  const settled = running.then(done, done);
  return { result, settled };
}
