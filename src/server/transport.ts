import type { Context, Hono, MiddlewareHandler } from "hono";
import type { WSEvents } from "hono/ws";

/**
 * How a runtime upgrades a request to a WebSocket: Hono's `upgradeWebSocket` helper of that
 * runtime (`@hono/node-ws`, `hono/bun`, `hono/deno`). The daemon only ever sees Hono's `WSContext`.
 */
export type WebSocketUpgrader = (createEvents: (c: Context) => WSEvents<unknown> | Promise<WSEvents<unknown>>) => MiddlewareHandler;

/** Where and how a transport listens. */
export interface ListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /**
   * The transport's own cap on one message, above the protocol's `maxFrameBytes`, so a frame that is
   * merely too large gets a JSON-RPC error instead of a dropped connection.
   */
  maxMessageBytes: number;
}

/** A listening server. */
export interface Listener {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Stops accepting new connections; open ones stay up. */
  stopAccepting(): void;
  /** Releases the server; call after the daemon closed its sockets. */
  close(): Promise<void>;
}

/**
 * The per-runtime glue (adapters/transport/): serves a Hono app built around the runtime's
 * WebSocket upgrader. Knows nothing of JSON-RPC or sessions.
 */
export interface Transport {
  readonly name: string;
  listen(options: ListenOptions, build: (upgradeWebSocket: WebSocketUpgrader) => Hono): Promise<Listener>;
}

/** The transport hard cap for a protocol frame limit: twice the limit, at least 64 KiB more. */
export function transportMessageLimit(maxFrameBytes: number): number {
  return Math.max(maxFrameBytes * 2, maxFrameBytes + 64 * 1024);
}
