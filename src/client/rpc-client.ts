import { CanceledError, CarError, TimeoutError } from "../errors.ts";
import { decodeFrame, encodeFrame, type Encoding, type RawFrame } from "../protocol/codec.ts";
import { classify, errorMessage, requestMessage, resultMessage, type RpcId } from "../protocol/envelope.ts";
import { RpcCode, RpcError, type RpcErrorObject } from "../protocol/errors.ts";
import { PROTOCOL_VERSION } from "../protocol/version.ts";

/** The part of the web-standard WebSocket the client uses (the `ws` package fits too). */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: { data?: unknown; code?: number; reason?: string }) => void): void;
}

/** Opens a socket to `url` (default: `new globalThis.WebSocket(url)`). */
export type WebSocketFactory = (url: string) => WebSocketLike | Promise<WebSocketLike>;

/** Answers a server→client request (`tools.execute`, `multi.run_agent`, …); throw to answer with an error. */
export type RequestHandler = (method: string, params: unknown, context: { id: string | number; signal: AbortSignal }) => unknown;

/** Connection options of a client. */
export interface RpcClientOptions {
  /** Daemon address (default `env.CAR_DAEMON_URL`, else `ws://127.0.0.1:9100/`). */
  url?: string;
  /** Daemon token (default `env.CAR_AUTH_TOKEN`, else `tokenLoader()`); none skips `session.auth`. */
  token?: string;
  /** Where `CAR_DAEMON_URL` and `CAR_AUTH_TOKEN` are read from (platform entry points pass the process env). */
  env?: Record<string, string | undefined>;
  /** Finds the token when neither `token` nor `CAR_AUTH_TOKEN` gives one (e.g. reads the token file). */
  tokenLoader?: () => string | undefined | Promise<string | undefined>;
  /** `json` (text frames, default) or `msgpack` (binary frames). */
  encoding?: Encoding;
  /** Send `server.handshake {protocol_version: 2}` after auth (default true). */
  handshake?: boolean;
  agentId?: string;
  /** Memory graph to use (default `env.CAR_MEMORY_NAMESPACE`); sent in `session.auth`, even without a token. */
  memoryNamespace?: string;
  /** Reconnect after an unexpected close (default: up to 5 tries, 250 ms doubling). Sessions do not survive it. */
  reconnect?: boolean | { retries?: number; delayMs?: number };
  /** Fail a request with no answer after this many ms (default: wait; the daemon has its own deadlines). */
  requestTimeoutMs?: number;
  webSocket?: WebSocketFactory;
  /** Called after a reconnect, once authenticated: the new session starts empty, so re-register tools here. */
  onReconnect?: () => void | Promise<void>;
  /** Receives server notifications. */
  onNotification?: (method: string, params: unknown) => void;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  cancelTimer(): void;
}

const OPEN = 1;

/** JSON-RPC 2.0 over one WebSocket, with auth, handshake, callbacks and reconnect. */
export class RpcClient {
  readonly url: string;
  protected readonly options: RpcClientOptions;
  private socket: WebSocketLike | undefined;
  private connecting: Promise<void> | undefined;
  private readonly pending = new Map<string | number, Pending>();
  private readonly callbacks = new Map<string | number, AbortController>();
  private readonly handlers = new Map<string, RequestHandler>();
  private seq = 0;
  private closedByUser = false;
  private established = false;
  private lastAuth: { ok: boolean; auth_enabled: boolean } | undefined;

  constructor(options: RpcClientOptions = {}) {
    this.options = options;
    this.url = options.url ?? options.env?.["CAR_DAEMON_URL"] ?? "ws://127.0.0.1:9100/";
  }

  /** The `session.auth` answer of the current connection, if auth was sent. */
  get auth(): { ok: boolean; auth_enabled: boolean } | undefined {
    return this.lastAuth;
  }

  /** Whether the connection is open and past auth/handshake (a request now would not reconnect). */
  protected get isOpen(): boolean {
    return this.established && this.socket?.readyState === OPEN;
  }

  /** Answers server→client requests named `method` (the last handler set wins). */
  handle(method: string, handler: RequestHandler): void {
    this.handlers.set(method, handler);
  }

  /** Opens the connection (auth, handshake) if it is not open yet. */
  connect(): Promise<void> {
    if (this.socket && this.socket.readyState === OPEN && this.established) return Promise.resolve();
    this.closedByUser = false;
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async resolveToken(): Promise<string | undefined> {
    if (this.options.token !== undefined) return this.options.token;
    const fromEnv = this.options.env?.["CAR_AUTH_TOKEN"]?.trim();
    if (fromEnv) return fromEnv;
    return (await this.options.tokenLoader?.())?.trim() || undefined;
  }

  private async open(): Promise<void> {
    const factory = this.options.webSocket ?? defaultWebSocket;
    const ws = await factory(this.url);
    ws.binaryType = "arraybuffer";
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new CarError("unavailable", "client", `cannot connect to ${this.url}`)));
      ws.addEventListener("close", (ev) => reject(new CarError("canceled", "client", `connection to ${this.url} closed before opening (code ${ev.code ?? "?"})`)));
    });
    this.socket = ws;
    ws.addEventListener("message", (ev) => this.receive(ev.data));
    ws.addEventListener("close", (ev) => this.onSocketClosed(ws, ev.code ?? 0, ev.reason ?? ""));
    try {
      const token = await this.resolveToken();
      const namespace = this.options.memoryNamespace || this.options.env?.["CAR_MEMORY_NAMESPACE"]?.trim() || undefined;
      const scope = { ...(this.options.agentId ? { agent_id: this.options.agentId } : {}), ...(namespace ? { memory_namespace: namespace } : {}) };
      // A memory scope is sent even without a token (a --no-auth daemon takes it): dropping it
      // would silently put this client's facts in the daemon-shared graph.
      if (token !== undefined || Object.keys(scope).length > 0) {
        this.lastAuth = (await this.send("session.auth", { ...(token !== undefined ? { token } : {}), ...scope })) as { ok: boolean; auth_enabled: boolean };
      }
      if (this.options.handshake !== false) await this.send("server.handshake", { protocol_version: PROTOCOL_VERSION });
    } catch (err) {
      this.socket = undefined;
      ws.close(1000, "setup failed");
      throw err;
    }
    this.established = true;
  }

  /** Sends a request and resolves with its result; rejects with an RpcError carrying the daemon's code. */
  async request<T = unknown>(method: string, params?: unknown): Promise<T> {
    await this.connect();
    return (await this.send(method, params)) as T;
  }

  /**
   * Like `request`, but calls `onId` with the request's JSON-RPC id before the frame is written, so
   * notifications that name the id (e.g. `inference.stream.event`) can be routed from the first one.
   */
  protected async requestWithId<T = unknown>(method: string, params: unknown, onId: (id: number) => void): Promise<T> {
    await this.connect();
    return (await this.send(method, params, onId)) as T;
  }

  /** Sends a notification (no answer). */
  async notify(method: string, params?: unknown): Promise<void> {
    await this.connect();
    this.write(requestMessage(method, params));
  }

  private send(method: string, params: unknown, onId?: (id: number) => void): Promise<unknown> {
    const id = ++this.seq;
    onId?.(id);
    return new Promise((resolve, reject) => {
      let cancelTimer = () => {};
      const ms = this.options.requestTimeoutMs;
      if (ms !== undefined) {
        const h = setTimeout(() => {
          this.pending.delete(id);
          reject(new TimeoutError("client", `${method} (id ${id})`, ms));
        }, ms);
        cancelTimer = () => clearTimeout(h);
      }
      this.pending.set(id, { resolve, reject, cancelTimer });
      try {
        this.write(requestMessage(method, params, id));
      } catch (err) {
        this.pending.delete(id);
        cancelTimer();
        reject(err);
      }
    });
  }

  private write(msg: object): void {
    const ws = this.socket;
    if (!ws || ws.readyState !== OPEN) throw new CanceledError("client", "not connected");
    ws.send(encodeFrame(msg, this.options.encoding ?? "json"));
  }

  private receive(data: unknown): void {
    let incoming;
    try {
      incoming = classify(decodeFrame(data as RawFrame).value);
    } catch {
      return; // Not ours to answer: the server never sends undecodable frames.
    }
    if (incoming.kind === "response") {
      const p = this.pending.get(incoming.id);
      if (!p) return;
      this.pending.delete(incoming.id);
      p.cancelTimer();
      if (incoming.error) p.reject(new RpcError(incoming.error.code, incoming.error.message, incoming.error.data, "daemon"));
      else p.resolve(incoming.result);
    } else if (incoming.kind === "invalid") {
      // An error answer with a null id: the server could not read one of our frames.
      if (incoming.id !== null) this.pending.get(incoming.id)?.reject(new RpcError(incoming.error.code, incoming.error.message, undefined, "daemon"));
    } else if (incoming.kind === "notification") {
      this.onNotification(incoming.method, incoming.params);
    } else {
      void this.answer(incoming.id, incoming.method, incoming.params);
    }
  }

  /** Built-in notifications: `tools.cancel` and `multi.cancel` abort the matching callback's signal. */
  protected onNotification(method: string, params: unknown): void {
    if ((method === "tools.cancel" || method === "multi.cancel") && typeof params === "object" && params !== null) {
      const id = (params as { request_id?: unknown }).request_id;
      if (typeof id === "string" || typeof id === "number") this.callbacks.get(id)?.abort(new CanceledError("client", String((params as { reason?: unknown }).reason ?? "canceled by the daemon")));
    }
    this.options.onNotification?.(method, params);
  }

  private async answer(id: RpcId, method: string, params: unknown): Promise<void> {
    const key = id ?? "";
    const ctl = new AbortController();
    this.callbacks.set(key, ctl);
    try {
      const handler = this.handlers.get(method);
      if (!handler) throw new RpcError(RpcCode.MethodNotFound, `method not found: this client does not answer ${method}`);
      const result = await handler(method, params, { id: key, signal: ctl.signal });
      if (!ctl.signal.aborted) this.write(resultMessage(id, result));
    } catch (err) {
      const error: RpcErrorObject = err instanceof RpcError ? err.toObject() : { code: RpcCode.Internal, message: err instanceof Error ? err.message.replace(/^\[car:[^\]]*\] /, "") : String(err) };
      if (!ctl.signal.aborted) {
        try {
          this.write(errorMessage(id, error));
        } catch {
          // The connection is gone; the daemon already gave up on this call.
        }
      }
    } finally {
      this.callbacks.delete(key);
    }
  }

  private onSocketClosed(ws: WebSocketLike, code: number, reason: string): void {
    if (this.socket !== ws) return;
    this.socket = undefined;
    const wasEstablished = this.established;
    this.established = false;
    const err = new CanceledError("client", `connection closed (code ${code}${reason ? `: ${reason}` : ""})`);
    for (const p of this.pending.values()) {
      p.cancelTimer();
      p.reject(err);
    }
    this.pending.clear();
    for (const c of this.callbacks.values()) c.abort(err);
    // 1008: the daemon refused us (auth); retrying would only repeat that.
    if (!this.closedByUser && wasEstablished && code !== 1008 && this.options.reconnect !== false) void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    const cfg = typeof this.options.reconnect === "object" ? this.options.reconnect : {};
    const retries = cfg.retries ?? 5;
    let delay = cfg.delayMs ?? 250;
    for (let i = 0; i < retries && !this.closedByUser; i++) {
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
      if (this.closedByUser) return;
      try {
        await this.connect();
        await this.options.onReconnect?.();
        return;
      } catch {
        // Try again after the next delay.
      }
    }
  }

  /** Closes the connection; pending requests reject. No reconnect follows. */
  close(): void {
    this.closedByUser = true;
    const ws = this.socket;
    if (ws) {
      ws.close(1000, "client closed");
      this.onSocketClosed(ws, 1000, "client closed");
    }
  }
}

function defaultWebSocket(url: string): WebSocketLike {
  const WS = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!WS) throw new CarError("unsupported", "client", "no global WebSocket here: pass options.webSocket (on Node 20 import CarClient from car-server/client, whose Node entry uses the ws package)");
  return new WS(url);
}
