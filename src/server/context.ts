import type { z } from "zod";
import type { Runtime } from "../engine/runtime.ts";
import { defineMethod, type MethodEntry, type MethodTable } from "../protocol/methods.ts";
import type { ServerSettings } from "./settings.ts";

/** Options of a server→client request. */
export interface CallOptions {
  /** Give up after this many ms (rejects with a `timeout` CarError). */
  timeoutMs?: number;
  /** Give up when this fires (rejects with its reason). */
  signal?: AbortSignal;
  /** Like `signal`, as a subscription (e.g. `ToolCall.onAbort`): give up with the reason it is called with. */
  subscribeAbort?: (fn: (reason: unknown) => void) => () => void;
  /** Called once when the call is given up (timeout or signal), e.g. to send `tools.cancel`. */
  onCancel?: (requestId: string, reason: string) => void;
}

/**
 * One client session: a WebSocket connection, or a single HTTP `POST /rpc` request. Each has its
 * own Runtime (tools, policies, state, event log).
 */
export interface Session {
  readonly id: string;
  readonly transport: "websocket" | "http";
  readonly runtime: Runtime;
  /** Set by `session.auth`. */
  agentId: string | undefined;
  /** Set by `session.auth`; selects the shared memory graph. */
  memoryNamespace: string | undefined;
  authenticated: boolean;
  /** `server.handshake` succeeded on this connection. */
  handshaken: boolean;
  /** Per-session state of feature modules, keyed by module name. */
  readonly data: Map<string, unknown>;
  /**
   * Sends a request to the client (string id `cb-N`) and resolves with its result. `params` may be a
   * function of the request id. Rejects over HTTP, where no callback can reach the client.
   */
  call(method: string, params: unknown, options?: CallOptions): Promise<unknown>;
  /** Sends a notification to the client (a no-op over HTTP). */
  notify(method: string, params: unknown): void;
  /** Runs `fn` when the session ends; returns a function that unregisters it. */
  onClose(fn: () => void): () => void;
}

/** What every handler can ask of the server. */
export interface ServerInfo {
  readonly settings: ServerSettings;
  readonly version: string;
  /** Whether tokens are checked (false with `--no-auth`). */
  readonly authEnabled: boolean;
  /** Constant-time check of a presented daemon token. */
  checkToken(token: string): boolean;
}

/** The per-request context handed to every method handler. */
export interface MethodContext {
  /** Fires on the handler deadline, when the connection closes, and on forced shutdown. */
  signal: AbortSignal;
  sessionId: string;
  /** The JSON-RPC id of the request ("" for notifications and null ids). */
  requestId: string | number;
  /** Sends a notification to this session's client. */
  notify(method: string, params: unknown): void;
  session: Session;
  server: ServerInfo;
  /** Whether the server answers `name` (e.g. `policy.register` once policies are built in). */
  hasMethod(name: string): boolean;
  /** Runs another method of this server in the same session (params validated as usual). */
  invokeMethod(name: string, params: unknown): Promise<unknown>;
}

/** A feature module's methods. */
export type ServerMethodTable = MethodTable<MethodContext>;
export type ServerMethodEntry = MethodEntry<MethodContext>;

/** Defines a server method with its handler typed from the params schema. */
export function method<S extends z.ZodType>(params: S, handler: (params: z.infer<S>, ctx: MethodContext) => unknown, extra: Omit<MethodEntry<MethodContext, S>, "params" | "handler"> = {}): ServerMethodEntry {
  return defineMethod<MethodContext, S>(params, handler, extra);
}
