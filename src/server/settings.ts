import { z } from "zod";
import { parseWith } from "../ir/parse.ts";

const MiB = 1024 * 1024;

/**
 * Every limit and switch of the daemon, with its default. The CLI fills these from flags and
 * `CAR_*` variables (docs/daemon.md lists both).
 */
export const ServerSettingsSchema = z.object({
  /** Address to listen on. Anything but loopback needs auth. */
  host: z.string().min(1).default("127.0.0.1"),
  /** Port; 0 picks a free one. */
  port: z.number().int().min(0).max(65535).default(9100),
  /** Require `session.auth {token}` as the first frame (and a Bearer token over HTTP). */
  auth: z.boolean().default(true),
  /** Origins (`scheme://host[:port]`) whose pages may open a WebSocket or call HTTP; `*` allows any. */
  allowedOrigins: z.array(z.string()).default([]),
  /** Largest frame (and `POST /rpc` body) accepted; bigger ones are answered with -32600. */
  maxFrameBytes: z.number().int().positive().default(16 * MiB),
  /** Requests one connection may have running at once; more are answered "overloaded". */
  maxInFlightPerConnection: z.number().int().positive().default(128),
  /**
   * Events each session's event log keeps in memory (oldest dropped past it; the session journal
   * under CAR_HOME keeps them all). Bounds memory at max_connections × this.
   */
  maxSessionEvents: z.number().int().positive().default(10_000),
  /** Open WebSocket connections; more are refused (HTTP 503). */
  maxConnections: z.number().int().positive().default(256),
  /** How long the daemon waits for a client's answer to `tools.execute` (`CAR_TOOL_TIMEOUT`). */
  toolTimeoutMs: z.number().int().positive().default(300_000),
  /** Deadline of one request's handler; past it the answer is -32004 (`CAR_HANDLER_TIMEOUT`). */
  handlerTimeoutMs: z.number().int().positive().default(1_800_000),
  /** Added to the summed action timeouts of a `proposal.submit` deadline. */
  deadlineGraceMs: z.number().int().nonnegative().default(15_000),
  /** On shutdown, how long in-flight requests may still finish before their sockets close. */
  shutdownGraceMs: z.number().int().nonnegative().default(10_000),
  /** Every method but `session.auth` and `server.handshake` needs `server.handshake` first. */
  requireHandshake: z.boolean().default(false),
});
export type ServerSettings = z.infer<typeof ServerSettingsSchema>;
export type ServerSettingsInput = z.input<typeof ServerSettingsSchema>;

/** Fills in defaults; a bad value is a ValidationError naming the setting. */
export function resolveSettings(input: ServerSettingsInput = {}): ServerSettings {
  return parseWith(ServerSettingsSchema, input, "server settings", "server");
}

/** Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  if (/^::ffff:127\./.test(h)) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
