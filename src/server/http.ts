import type { Context, Hono, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { decodeFrame, encodeFrame, type Encoding } from "../protocol/codec.ts";
import { classify, errorMessage, resultMessage, type RpcId } from "../protocol/envelope.ts";
import { RpcCode, toRpcErrorObject, type RpcErrorObject } from "../protocol/errors.ts";
import { PROTOCOL_VERSION } from "../protocol/version.ts";
import { bearerToken } from "./auth.ts";
import type { ServerCore } from "./core.ts";
import { invoke } from "./dispatch.ts";
import { SessionEnd } from "./session-end.ts";
import { renderPrometheus } from "./metrics.ts";
import { originAllowed } from "./origin.ts";

const MSGPACK = "application/msgpack";

/** `GET /health` (open), `GET /metrics` and `POST /rpc` (Bearer token when auth is on). */
export function httpRoutes(app: Hono, core: ServerCore): void {
  app.get("/health", (c) =>
    c.json({ status: core.shuttingDown ? "shutting_down" : "ok", server_version: core.info.version, protocol_version: PROTOCOL_VERSION, auth_enabled: core.info.authEnabled }, core.shuttingDown ? 503 : 200),
  );

  app.get("/metrics", (c) => {
    const refusal = refuse(c, core);
    if (refusal) return refusal;
    const snap = core.snapshot();
    if (c.req.query("format") === "json" || (c.req.header("accept") ?? "").includes("application/json")) return c.json(snap);
    const { connections, inFlight, uptimeSeconds, ...counters } = snap;
    return c.body(renderPrometheus(counters, { connections, inFlight, uptimeSeconds }), 200, { "content-type": "text/plain; version=0.0.4" });
  });

  const encodingOf = (c: Context): Encoding => ((c.req.header("content-type") ?? "").includes(MSGPACK) ? "msgpack" : "json");
  // Auth and origin first, so nobody unauthenticated makes the daemon read a body.
  const guard: MiddlewareHandler = async (c, next) => refuse(c, core) ?? next();
  const limit = bodyLimit({ maxSize: core.settings.maxFrameBytes, onError: (c) => answer(c, encodingOf(c), null, tooLarge(core.settings.maxFrameBytes), 413) });
  app.post("/rpc", guard, limit, async (c) => {
    core.metrics.httpRequests++;
    const enc = encodingOf(c);
    const body = new Uint8Array(await c.req.arrayBuffer());
    let incoming;
    try {
      incoming = classify(decodeFrame(enc === "json" ? new TextDecoder().decode(body) : body).value);
    } catch (err) {
      return answer(c, enc, null, toRpcErrorObject(err));
    }
    if (incoming.kind === "invalid") return answer(c, enc, incoming.id, incoming.error);
    if (incoming.kind === "response") return answer(c, enc, incoming.id, { code: RpcCode.InvalidRequest, message: "invalid request: POST /rpc takes requests, not responses" });
    if (core.shuttingDown) return answer(c, enc, incoming.kind === "request" ? incoming.id : null, { code: RpcCode.Internal, message: "unavailable: the server is shutting down" }, 503);
    const id: RpcId = incoming.kind === "request" ? incoming.id : null;
    const session = core.openHttpSession();
    const ended = new SessionEnd();
    try {
      const started = invoke({ registry: core.registry, server: core.info, session, clock: core.clock, sessionEnd: ended, http: true }, incoming.method, incoming.params, id);
      void core.track(started.settled);
      const result = await started.result;
      if (incoming.kind === "notification") return c.body(null, 204);
      return send(c, enc, resultMessage(id, result));
    } catch (err) {
      if (incoming.kind === "notification") return c.body(null, 204);
      return answer(c, enc, id, toRpcErrorObject(err));
    } finally {
      ended.end(undefined);
      core.closeHttpSession(session);
    }
  });
}

function tooLarge(limit: number): RpcErrorObject {
  return { code: RpcCode.InvalidRequest, message: `invalid request: body exceeds max_frame_bytes (${limit} bytes)`, data: { max_frame_bytes: limit } };
}

/** A foreign origin (403) or a missing/wrong Bearer token (401), else undefined. */
function refuse(c: Context, core: ServerCore): Response | undefined {
  const origin = c.req.header("origin");
  if (!originAllowed(origin, core.settings.allowedOrigins)) return c.text(`forbidden: origin ${origin} is not allowed`, 403);
  if (!core.info.authEnabled) return undefined;
  const token = bearerToken(c.req.header("authorization"));
  if (token === undefined) {
    core.metrics.authFailures++;
    return c.json(errorMessage(null, { code: RpcCode.AuthRequired, message: "auth required: send Authorization: Bearer <token>" }), 401, { "www-authenticate": "Bearer" });
  }
  if (!core.info.checkToken(token)) {
    core.metrics.authFailures++;
    return c.json(errorMessage(null, { code: RpcCode.Internal, message: "auth failed: token mismatch" }), 401, { "www-authenticate": "Bearer" });
  }
  return undefined;
}

function answer(c: Context, enc: Encoding, id: RpcId, error: RpcErrorObject, status: 200 | 413 | 503 = 200): Response {
  return send(c, enc, errorMessage(id, error), status);
}

function send(c: Context, enc: Encoding, msg: object, status: 200 | 413 | 503 = 200): Response {
  let frame;
  try {
    frame = encodeFrame(msg, enc);
  } catch (err) {
    // Still the answer to the request: keep its id, as the WebSocket path does.
    const id = (msg as { id?: RpcId }).id ?? null;
    frame = encodeFrame(errorMessage(id, { code: RpcCode.Internal, message: `internal error: result could not be encoded: ${(err as Error).message}` }), enc);
  }
  if (typeof frame === "string") return c.body(frame, status, { "content-type": "application/json" });
  return c.body(frame as Uint8Array<ArrayBuffer>, status, { "content-type": MSGPACK });
}
