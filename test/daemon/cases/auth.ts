// Auth rules (DESIGN §3, reference §1.3) on the auth-on daemon, over WebSocket and HTTP.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { decode, encode } from "@msgpack/msgpack";
import { CarClient } from "../../../adapters/client/node.ts";
import { RpcError } from "../../../src/protocol/errors.ts";
import { expectError, expectResult, tokenOf, type Daemons } from "../helpers.ts";
import { RawSocket } from "../raw-socket.ts";

export function authCases(d: Daemons): void {
  test("prints the listening line, then the token file", () => {
    assert.match(d.auth.stdout[0]!, /^car-server listening on ws:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(d.auth.stdout[1], `auth token file: ${join(d.auth.carHome, "auth-token")}`);
  });

  test("the token file holds a 43-char base64url token with mode 0600", () => {
    const path = join(d.auth.carHome, "auth-token");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.match(tokenOf(d.auth), /^[A-Za-z0-9_-]{43}$/);
  });

  test("a first frame other than session.auth is answered -32001 and the connection closes", async () => {
    const s = await RawSocket.open(d.auth.url);
    expectError(await s.call(1, "tools.list"), -32001, 1);
    assert.equal((await s.closed).code, 1008);
  });

  test("an unreadable first frame is refused the same way", async () => {
    const s = await RawSocket.open(d.auth.url);
    s.text("{not json");
    expectError((await s.next()).msg, -32001);
    await s.closed;
  });

  test("a wrong token is -32603 'auth failed: token mismatch'; the session stays unauthenticated", async () => {
    const s = await RawSocket.open(d.auth.url);
    const err = expectError(await s.call(1, "session.auth", { token: "x".repeat(43) }), -32603, 1);
    assert.equal(err.message, "auth failed: token mismatch");
    assert.equal(s.isClosed, false);
    expectError(await s.call(2, "state.keys"), -32001, 2);
    await s.closed;
  });

  test("after a wrong token the right one still authenticates", async () => {
    const s = await RawSocket.open(d.auth.url);
    expectError(await s.call(1, "session.auth", { token: "short" }), -32603, 1);
    const ok = expectResult(await s.call(2, "session.auth", { token: tokenOf(d.auth), agent_id: "agent-7", memory_namespace: "proj" }), 2);
    assert.deepEqual(ok, { ok: true, auth_enabled: true, agent_id: "agent-7", memory_namespace: "proj" });
    assert.deepEqual(expectResult(await s.call(3, "state.keys"), 3), []);
    s.close();
  });

  test("session.auth and the next request may be sent in one burst", async () => {
    const s = await RawSocket.open(d.auth.url);
    s.text({ jsonrpc: "2.0", id: 1, method: "session.auth", params: { token: tokenOf(d.auth) } });
    s.text({ jsonrpc: "2.0", id: 2, method: "state.set", params: { key: "k", value: 1 } });
    const answers = [(await s.next()).msg, (await s.next()).msg].sort((a, b) => Number(a["id"]) - Number(b["id"]));
    expectResult(answers[0]!, 1);
    assert.equal(expectResult(answers[1]!, 2), "ok");
    s.close();
  });

  test("CarClient finds the token in $CAR_HOME/auth-token and in CAR_AUTH_TOKEN", async () => {
    for (const env of [{ CAR_HOME: d.auth.carHome }, { CAR_AUTH_TOKEN: ` ${tokenOf(d.auth)}\n`, CAR_HOME: "/nonexistent" }]) {
      const c = new CarClient({ url: d.auth.url, env });
      try {
        assert.deepEqual(await c.toolsList(), { tools: [], count: 0 });
        assert.equal(c.auth?.auth_enabled, true);
      } finally {
        c.close();
      }
    }
  });

  test("CarClient with a wrong token rejects with -32603", async () => {
    const c = new CarClient({ url: d.auth.url, token: "nope", env: {} });
    await assert.rejects(c.toolsList(), (e: unknown) => e instanceof RpcError && e.rpcCode === -32603 && /token mismatch/.test(e.message));
    c.close();
  });

  test("GET /health needs no token", async () => {
    const res = await fetch(`${d.auth.http}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok", server_version: "0.1.0", protocol_version: 2, auth_enabled: true });
  });

  test("GET /metrics needs the Bearer token", async () => {
    assert.equal((await fetch(`${d.auth.http}/metrics`)).status, 401);
    assert.equal((await fetch(`${d.auth.http}/metrics`, { headers: { authorization: "Bearer wrong" } })).status, 401);
    const res = await fetch(`${d.auth.http}/metrics`, { headers: { authorization: `Bearer ${tokenOf(d.auth)}` } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^car_connections_opened_total \d+$/m);
  });

  test("POST /rpc needs the Bearer token and answers single requests in JSON or MessagePack", async () => {
    const body = JSON.stringify({ jsonrpc: "2.0", id: 5, method: "state.keys" });
    const none = await fetch(`${d.auth.http}/rpc`, { method: "POST", body });
    assert.equal(none.status, 401);
    expectError((await none.json()) as Record<string, unknown>, -32001);
    const wrong = await fetch(`${d.auth.http}/rpc`, { method: "POST", body, headers: { authorization: "Bearer wrong" } });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { error: { message: string } }).error.message, "auth failed: token mismatch");
    const headers = { authorization: `Bearer ${tokenOf(d.auth)}` };
    const ok = await fetch(`${d.auth.http}/rpc`, { method: "POST", body, headers: { ...headers, "content-type": "application/json" } });
    assert.deepEqual(await ok.json(), { jsonrpc: "2.0", id: 5, result: [] });
    const mp = await fetch(`${d.auth.http}/rpc`, { method: "POST", body: encode({ jsonrpc: "2.0", id: 6, method: "server.handshake", params: { protocol_version: 2 } }), headers: { ...headers, "content-type": "application/msgpack" } });
    assert.equal(mp.headers.get("content-type"), "application/msgpack");
    assert.deepEqual(decode(new Uint8Array(await mp.arrayBuffer())), { jsonrpc: "2.0", id: 6, result: { protocol_version: 2, server_version: "0.1.0", client_protocol_version: 2 } });
    const unknown = await fetch(`${d.auth.http}/rpc`, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "memory.nope" }), headers });
    expectError((await unknown.json()) as Record<string, unknown>, -32601, 7);
  });
}
