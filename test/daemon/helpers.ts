// Shared helpers of the daemon conformance cases.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Daemon } from "./harness.ts";
import { RawSocket } from "./raw-socket.ts";

/** The daemons one runtime's suite shares. */
export interface Daemons {
  /** Auth on (default), one allowed origin. */
  auth: Daemon;
  /** `--no-auth`, default limits. */
  open: Daemon;
  /** Auth on, `--require-handshake`, short deadlines; shut down by its last case. */
  strict: Daemon;
}

export function tokenOf(d: Daemon): string {
  return readFileSync(join(d.carHome, "auth-token"), "utf8").trim();
}

/** A raw socket past `session.auth` (and `server.handshake` when asked). */
export async function authedSocket(d: Daemon, options: { handshake?: boolean } = {}): Promise<RawSocket> {
  const s = await RawSocket.open(d.url);
  const auth = await s.call("auth", "session.auth", { token: tokenOf(d) });
  assert.deepEqual(auth["result"], { ok: true, auth_enabled: true });
  if (options.handshake) {
    const hs = await s.call("hs", "server.handshake", { protocol_version: 2 });
    assert.equal((hs["result"] as { protocol_version: number }).protocol_version, 2);
  }
  return s;
}

/** Asserts an error response with `code` (and `id` when given); returns its error object. */
export function expectError(msg: Record<string, unknown>, code: number, id?: unknown): { code: number; message: string; data?: unknown } {
  assert.equal(msg["jsonrpc"], "2.0");
  assert.ok(msg["error"], `expected an error, got ${JSON.stringify(msg)}`);
  const err = msg["error"] as { code: number; message: string; data?: unknown };
  assert.equal(err.code, code, `expected code ${code}, got ${JSON.stringify(err)}`);
  assert.equal(typeof err.message, "string");
  if (id !== undefined) assert.equal(msg["id"], id);
  return err;
}

/** Asserts a success response for `id`; returns its result. */
export function expectResult(msg: Record<string, unknown>, id: unknown): unknown {
  assert.equal(msg["id"], id, `expected the answer to ${String(id)}, got ${JSON.stringify(msg)}`);
  assert.ok(!("error" in msg), `expected a result, got ${JSON.stringify(msg)}`);
  return msg["result"];
}
