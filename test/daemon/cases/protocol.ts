// Wire rules: handshake, error codes, malformed frames, MessagePack, concurrency, origin, core methods.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CarClient } from "../../../adapters/client/node.ts";
import { RpcError } from "../../../src/protocol/errors.ts";
import { authedSocket, expectError, expectResult, tokenOf, type Daemons } from "../helpers.ts";
import { RawSocket } from "../raw-socket.ts";

export function protocolCases(d: Daemons): void {
  test("server.handshake: missing or other versions are -32006, version 2 succeeds", async () => {
    const s = await authedSocket(d.auth);
    const missing = expectError(await s.call(1, "server.handshake", {}), -32006, 1);
    assert.match(missing.message, /^protocol version mismatch:/);
    const v1 = expectError(await s.call(2, "server.handshake", { protocol_version: 1 }), -32006, 2);
    assert.match(v1.message, /^protocol version mismatch:/);
    assert.deepEqual(expectResult(await s.call(3, "server.handshake", { protocol_version: 2, client_version: "test" }), 3), { protocol_version: 2, server_version: "0.1.0", client_protocol_version: 2 });
    s.close();
  });

  test("unknown methods are -32601", async () => {
    const s = await authedSocket(d.auth);
    assert.match(expectError(await s.call(1, "no.such.method", {}), -32601, 1).message, /no\.such\.method/);
    expectError(await s.call(2, "memory.no_such_verb", { subject: "lang", body: "TS" }), -32601, 2);
    s.close();
  });

  test("invalid params are -32602 with the zod issues in error.data", async () => {
    const s = await authedSocket(d.auth);
    const e1 = expectError(await s.call(1, "state.get", {}), -32602, 1);
    const issues1 = (e1.data as { issues: Array<{ path: unknown[]; message: string }> }).issues;
    assert.deepEqual(issues1.map((i) => i.path), [["key"]]);
    assert.equal(typeof issues1[0]!.message, "string");
    const e2 = expectError(await s.call(2, "tools.unregister", { name: 5 }), -32602, 2);
    assert.deepEqual((e2.data as { issues: Array<{ path: unknown[] }> }).issues[0]!.path, ["name"]);
    const e3 = expectError(await s.call(3, "proposal.submit", { proposal: { actions: [{ id: "a", type: "teleport" }] } }), -32602, 3);
    assert.deepEqual((e3.data as { issues: Array<{ path: unknown[] }> }).issues[0]!.path, ["proposal", "actions", 0, "type"]);
    s.close();
  });

  test("malformed frames are each answered with an error and the connection stays usable", async () => {
    const s = await authedSocket(d.auth);
    s.text("{not json");
    expectError((await s.next()).msg, -32700, null);
    s.text("[1, 2]");
    expectError((await s.next()).msg, -32600, null);
    s.text("42");
    expectError((await s.next()).msg, -32600, null);
    s.text({ jsonrpc: "1.0", id: 7, method: "state.keys" });
    expectError((await s.next()).msg, -32600, 7);
    s.text({ jsonrpc: "2.0", id: 8 });
    expectError((await s.next()).msg, -32600, 8);
    s.text({ jsonrpc: "2.0", id: 9, method: "" });
    expectError((await s.next()).msg, -32600, 9);
    s.binary(new Uint8Array([0xc1]));
    const bin = await s.next();
    assert.equal(bin.binary, true);
    expectError(bin.msg, -32700, null);
    assert.deepEqual(expectResult(await s.call(10, "state.keys"), 10), []);
    s.close();
  });

  test("binary frames carry MessagePack and are answered in MessagePack", async () => {
    const s = await authedSocket(d.auth);
    s.binary({ jsonrpc: "2.0", id: 1, method: "state.set", params: { key: "bytes", value: { n: 1, list: [1, "two", null] } } });
    const set = await s.next();
    assert.equal(set.binary, true);
    assert.equal(expectResult(set.msg, 1), "ok");
    s.binary({ jsonrpc: "2.0", id: 2, method: "state.get", params: { key: "bytes" } });
    assert.deepEqual(expectResult((await s.next()).msg, 2), { n: 1, list: [1, "two", null] });
    const text = await (s.text({ jsonrpc: "2.0", id: 3, method: "state.exists", params: { key: "bytes" } }), s.next());
    assert.equal(text.binary, false);
    assert.equal(expectResult(text.msg, 3), true);
    s.close();
  });

  test("requests run concurrently: later requests are answered while an earlier one waits", async () => {
    const s = await authedSocket(d.auth);
    expectResult(await s.call(1, "tools.register", [{ name: "hold" }]), 1);
    s.text({ jsonrpc: "2.0", id: 10, method: "proposal.submit", params: { proposal: { actions: [{ id: "h", type: "tool_call", tool: "hold" }] } } });
    const cb = (await s.next()).msg;
    assert.equal(cb["method"], "tools.execute");
    s.text({ jsonrpc: "2.0", id: 11, method: "state.set", params: { key: "x", value: 1 } });
    s.text({ jsonrpc: "2.0", id: 12, method: "state.get", params: { key: "x" } });
    assert.equal(expectResult((await s.next()).msg, 11), "ok");
    assert.equal(expectResult((await s.next()).msg, 12), 1);
    s.text({ jsonrpc: "2.0", id: cb["id"], result: "released" });
    const done = expectResult((await s.next()).msg, 10) as { results: Array<{ status: string; output: unknown }> };
    assert.deepEqual(done.results.map((r) => [r.status, r.output]), [["succeeded", "released"]]);
    s.close();
  });

  test("a WebSocket upgrade from a foreign Origin is refused; an allowed one is accepted", async () => {
    await assert.rejects(RawSocket.open(d.auth.url, { origin: "https://evil.example" }), (e: { status?: number }) => e.status === 403);
    const ok = await RawSocket.open(d.auth.url, { origin: "http://localhost:5173" });
    expectResult(await ok.call(1, "session.auth", { token: tokenOf(d.auth) }), 1);
    ok.close();
    const res = await fetch(`${d.auth.http}/rpc`, { method: "POST", headers: { origin: "https://evil.example", authorization: `Bearer ${tokenOf(d.auth)}` }, body: "{}" });
    assert.equal(res.status, 403);
  });

  test("tools.register|list|unregister, state.* with tenants, events.* through CarClient", async () => {
    const c = new CarClient({ url: d.auth.url, env: { CAR_HOME: d.auth.carHome } });
    try {
      assert.equal(await c.toolsRegister([{ name: "zeta" }, { name: "alpha", description: "first" }]), 2);
      const list = await c.toolsList();
      assert.deepEqual(list.tools.map((t) => t.name), ["alpha", "zeta"]);
      assert.equal(list.count, 2);
      assert.deepEqual(await c.toolsUnregister("zeta"), { unregistered: "zeta", removed: 1 });
      assert.deepEqual(await c.toolsUnregister("zeta"), { unregistered: "zeta", removed: 0 });

      assert.equal(await c.stateSet("k", { a: 1 }), "ok");
      assert.equal(await c.stateSet("k", "tenant value", "t1"), "ok");
      assert.deepEqual(await c.stateGet("k"), { a: 1 });
      assert.equal(await c.stateGet("k", "t1"), "tenant value");
      assert.equal(await c.stateGet("missing"), null);
      assert.equal(await c.stateExists("k", "t2"), false);
      assert.deepEqual(await c.stateKeys(), ["k"]);
      assert.deepEqual(await c.stateKeys("t1"), ["k"]);
      assert.deepEqual(await c.stateSnapshot("t1"), { k: "tenant value" });
      await assert.rejects(c.stateGet("tenant:t1:k"), (e: unknown) => e instanceof RpcError && e.rpcCode === -32602);
      assert.deepEqual(await c.stateDelete("k"), { deleted: true });

      assert.equal((await c.eventsChainEnable()).ok, true);
      const r = await c.submitProposal({ actions: [{ id: "w", type: "state_write", parameters: { key: "done", value: true } }] });
      assert.equal(r.results[0]!.status, "succeeded");
      assert.ok((await c.eventsCount()) > 0);
      const q = await c.eventsQuery({ kinds: ["action_succeeded"] });
      assert.equal(q.count, 1);
      assert.equal(q.events[0]!.action_id, "w");
      const v = await c.eventsChainVerify();
      assert.ok("verified" in v && v.verified > 0, JSON.stringify(v));
    } finally {
      c.close();
    }
  });

  test("each connection is its own session", async () => {
    const a = await authedSocket(d.auth);
    const b = await authedSocket(d.auth);
    expectResult(await a.call(1, "state.set", { key: "mine", value: 1 }), 1);
    assert.deepEqual(expectResult(await b.call(1, "state.keys"), 1), []);
    a.close();
    b.close();
  });
}
