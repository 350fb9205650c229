import { CanceledError, CarError, TimeoutError, messageOf } from "../errors.ts";
import type { Clock } from "../engine/clock.ts";
import type { Runtime } from "../engine/runtime.ts";
import { reasonOf, reasonText } from "../engine/clock.ts";
import { decodeFrame, encodeFrame, frameExceeds, type Encoding, type FrameData, type RawFrame } from "../protocol/codec.ts";
import { classify, errorMessage, requestMessage, resultMessage, type Incoming, type RpcId } from "../protocol/envelope.ts";
import { RpcCode, RpcError, toRpcErrorObject, type RpcErrorObject } from "../protocol/errors.ts";
import type { MethodRegistry } from "../protocol/methods.ts";
import type { CallOptions, MethodContext, ServerInfo, Session } from "./context.ts";
import { invoke } from "./dispatch.ts";
import type { Metrics } from "./metrics.ts";
import { SessionEnd } from "./session-end.ts";

/** What a transport gives a connection: a way to send frames and to close. */
export interface SocketSink {
  send(data: FrameData): void;
  close(code?: number, reason?: string): void;
}

/** Everything a connection needs from the server it belongs to. */
export interface ConnectionDeps {
  registry: MethodRegistry<MethodContext>;
  server: ServerInfo;
  clock: Clock;
  metrics: Metrics;
  sessionId: string;
  createRuntime(session: Session): Runtime;
  isShuttingDown(): boolean;
  log(line: string): void;
  onClosed(conn: Connection): void;
}

interface PendingCall {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** WebSocket close codes the daemon uses. */
export const CloseCode = { GoingAway: 1001, PolicyViolation: 1008, TryAgainLater: 1013 } as const;

/**
 * One WebSocket connection = one session. Frames are decoded and gated in arrival order; requests
 * then run concurrently and are answered as they finish, each in the encoding it came in.
 */
export class Connection implements Session {
  readonly id: string;
  readonly transport = "websocket" as const;
  readonly runtime: Runtime;
  readonly data = new Map<string, unknown>();
  agentId: string | undefined;
  memoryNamespace: string | undefined;
  authenticated: boolean;
  handshaken = false;

  private encoding: Encoding = "json";
  private callbackSeq = 0;
  private readonly pending = new Map<string, PendingCall>();
  private readonly running = new Set<Promise<void>>();
  private readonly closeFns = new Set<() => void>();
  private readonly ended = new SessionEnd();
  private queued = 0;
  private inbox: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly deps: ConnectionDeps,
    private readonly socket: SocketSink,
  ) {
    this.id = deps.sessionId;
    this.authenticated = !deps.server.authEnabled;
    this.runtime = deps.createRuntime(this);
  }

  /** Requests whose handlers have not finished. */
  get inFlight(): number {
    return this.running.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Takes one frame from the transport. Blobs (some runtimes) are read first, keeping frame order. */
  receive(data: RawFrame | Blob): void {
    if (this.closed) return;
    if (typeof Blob !== "undefined" && data instanceof Blob) {
      this.queued++;
      this.inbox = this.inbox.then(async () => {
        let bytes: Uint8Array;
        try {
          bytes = new Uint8Array(await data.arrayBuffer());
        } catch (err) {
          this.queued--;
          this.deps.metrics.framesRejected++;
          return this.sendError(null, { code: RpcCode.ParseError, message: `parse error: binary frame could not be read (${messageOf(err)})` }, "msgpack");
        }
        this.queued--;
        this.handleFrame(bytes);
      }).catch(this.inboxFailed);
      return;
    }
    if (this.queued > 0) this.inbox = this.inbox.then(() => this.handleFrame(data as RawFrame)).catch(this.inboxFailed);
    else this.handleFrame(data as RawFrame);
  }

  /** A queued frame that failed must neither go unhandled nor stall the frames queued after it. */
  private readonly inboxFailed = (err: unknown): void => this.deps.log(`frame handling failed: ${messageOf(err)}`);

  private handleFrame(data: RawFrame): void {
    if (this.closed) return;
    const { metrics, server } = this.deps;
    metrics.framesIn++;
    const frameEncoding: Encoding = typeof data === "string" ? "json" : "msgpack";
    const limit = server.settings.maxFrameBytes;
    let incoming: Incoming;
    if (frameExceeds(data, limit)) {
      incoming = { kind: "invalid", id: null, error: { code: RpcCode.InvalidRequest, message: `invalid request: frame exceeds max_frame_bytes (${limit} bytes)`, data: { max_frame_bytes: limit } } };
    } else {
      try {
        const decoded = decodeFrame(data);
        incoming = classify(decoded.value);
      } catch (err) {
        incoming = { kind: "invalid", id: null, error: toRpcErrorObject(err) };
      }
    }
    this.encoding = frameEncoding;
    if (!this.authenticated && !(incoming.kind === "request" && incoming.method === "session.auth")) {
      return this.refuseUnauthenticated(incoming, frameEncoding);
    }
    switch (incoming.kind) {
      case "invalid":
        metrics.framesRejected++;
        return this.sendError(incoming.id, incoming.error, frameEncoding);
      case "response":
        return this.settleCallback(incoming.id, incoming.result, incoming.error);
      case "request":
        return this.dispatch(incoming.method, incoming.params, incoming.id, frameEncoding);
      case "notification":
        return this.dispatch(incoming.method, incoming.params, undefined, frameEncoding);
    }
  }

  /** First-frame rule: anything but `session.auth` on an unauthenticated connection → -32001, then close. */
  private refuseUnauthenticated(incoming: Incoming, enc: Encoding): void {
    this.deps.metrics.authFailures++;
    const id: RpcId = incoming.kind === "request" || incoming.kind === "invalid" || incoming.kind === "response" ? incoming.id : null;
    const what = incoming.kind === "invalid" ? "an invalid frame" : incoming.kind === "response" ? "a response" : `"${incoming.method}"`;
    this.sendError(id, { code: RpcCode.AuthRequired, message: `auth required: the first frame must be session.auth {token}, got ${what}` }, enc);
    this.close(CloseCode.PolicyViolation, "auth required");
  }

  private dispatch(name: string, params: unknown, id: RpcId | undefined, enc: Encoding): void {
    const { metrics, server } = this.deps;
    metrics.requests++;
    if (this.deps.isShuttingDown()) return this.answerError(id, new RpcError(RpcCode.Internal, "unavailable: the server is shutting down"), enc);
    if (this.running.size >= server.settings.maxInFlightPerConnection) {
      metrics.overloaded++;
      return this.answerError(id, new CarError("overloaded", "server", `overloaded: ${this.running.size} requests already in flight on this connection (max_in_flight ${server.settings.maxInFlightPerConnection})`), enc);
    }
    let started;
    try {
      started = invoke({ registry: this.deps.registry, server, session: this, clock: this.deps.clock, sessionEnd: this.ended }, name, params, id ?? null);
    } catch (err) {
      return this.answerError(id, err, enc);
    }
    const settled = started.settled.then(() => void this.running.delete(settled));
    this.running.add(settled);
    started.result.then(
      (value) => {
        if (id !== undefined) this.send(resultMessage(id, value), enc, id);
      },
      (err) => this.answerError(id, err, enc),
    );
  }

  private answerError(id: RpcId | undefined, err: unknown, enc: Encoding): void {
    this.deps.metrics.errors++;
    const obj = toRpcErrorObject(err);
    if (obj.code === RpcCode.Internal && !(err instanceof CarError)) this.deps.log(`internal error: ${obj.message}`);
    if (id !== undefined) this.sendError(id, obj, enc);
  }

  private sendError(id: RpcId, error: RpcErrorObject, enc: Encoding): void {
    this.send(errorMessage(id, error), enc, id);
  }

  /** Encodes and sends; a value that cannot be encoded is answered with -32603 instead. */
  private send(msg: object, enc: Encoding, id?: RpcId): void {
    if (this.closed) return;
    let frame: FrameData;
    try {
      frame = encodeFrame(msg, enc);
    } catch (err) {
      if (id === undefined) return this.deps.log(`could not encode a ${enc} frame: ${(err as Error).message}`);
      frame = encodeFrame(errorMessage(id, { code: RpcCode.Internal, message: `internal error: result could not be encoded as ${enc}: ${(err as Error).message}` }), enc);
    }
    try {
      this.socket.send(frame);
      this.deps.metrics.framesOut++;
    } catch (err) {
      this.deps.log(`send failed: ${(err as Error).message}`);
    }
  }

  /** Sends a request to the client (id `cb-N`) and waits for its answer. */
  call(name: string, params: unknown, options: CallOptions = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(new CanceledError("server", "connection closed"));
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const requestId = `cb-${++this.callbackSeq}`;
    const body = typeof params === "function" ? (params as (id: string) => unknown)(requestId) : params;
    this.deps.metrics.callbacks++;
    return new Promise<unknown>((resolve, reject) => {
      let cancelTimer = () => {};
      let unsubscribe = () => {};
      const { signal } = options;
      const giveUp = (err: unknown, reason: string) => {
        if (!this.pending.delete(requestId)) return;
        cleanup();
        options.onCancel?.(requestId, reason);
        reject(err);
      };
      const onAbort = () => giveUp(signal!.reason, reasonOf(signal!));
      const cleanup = () => {
        cancelTimer();
        unsubscribe();
        signal?.removeEventListener("abort", onAbort);
      };
      this.pending.set(requestId, {
        resolve: (v) => (cleanup(), resolve(v)),
        reject: (e) => (cleanup(), reject(e)),
      });
      if (options.timeoutMs !== undefined) {
        const ms = options.timeoutMs;
        cancelTimer = this.deps.clock.setTimer(ms, () => {
          this.deps.metrics.callbackTimeouts++;
          giveUp(new TimeoutError("server", `${name} callback ${requestId}`, ms), `timeout: no answer to ${name} within ${ms} ms`);
        });
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      if (options.subscribeAbort) {
        // Aborted before anything was sent: reject as for an aborted signal, with no tools.cancel.
        let early: { reason: unknown } | undefined;
        let sent = false;
        unsubscribe = options.subscribeAbort((reason) => (sent ? giveUp(reason, reasonText(reason)) : (early = { reason })));
        if (early) {
          this.pending.delete(requestId);
          cleanup();
          return reject(early.reason);
        }
        sent = true;
      }
      this.send(requestMessage(name, body, requestId), this.encoding);
    });
  }

  notify(name: string, params: unknown): void {
    this.send(requestMessage(name, params), this.encoding);
  }

  onClose(fn: () => void): () => void {
    this.closeFns.add(fn);
    return () => this.closeFns.delete(fn);
  }

  private settleCallback(id: string | number, result: unknown, error: RpcErrorObject | undefined): void {
    const p = this.pending.get(String(id));
    if (!p) return this.deps.log(`ignored a response to unknown request id ${JSON.stringify(id)}`);
    this.pending.delete(String(id));
    if (error) p.reject(new RpcError(error.code, error.message, error.data, "client"));
    else p.resolve(result);
  }

  /** Resolves once every running handler has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Closes the socket and ends the session. */
  close(code: number = CloseCode.GoingAway, reason = ""): void {
    if (this.closed) return;
    try {
      this.socket.close(code, reason);
    } catch {
      // The socket may already be gone; the session still ends below.
    }
    this.handleClosed();
  }

  /** Called by the transport when the socket is gone: cancels everything of this session. */
  handleClosed(): void {
    if (this.closed) return;
    this.closed = true;
    const reason = new CanceledError("server", "connection closed");
    this.ended.end(reason);
    for (const p of this.pending.values()) p.reject(reason);
    this.pending.clear();
    for (const fn of this.closeFns) {
      try {
        fn();
      } catch (err) {
        this.deps.log(`session close hook failed: ${(err as Error).message}`);
      }
    }
    this.deps.onClosed(this);
  }
}
