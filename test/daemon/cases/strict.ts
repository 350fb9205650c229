// The strict daemon: --require-handshake, a short handler deadline and tool timeout, then graceful shutdown.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { authedSocket, expectError, expectResult, type Daemons } from "../helpers.ts";
import { RawSocket } from "../raw-socket.ts";

/** Flags of the strict daemon; the cases below depend on these numbers. */
export const STRICT_FLAGS = ["--require-handshake", "--handler-timeout", "0.5", "--deadline-grace", "1", "--tool-timeout", "2", "--shutdown-grace", "20"];

export function strictCases(d: Daemons): void {
  test("with --require-handshake, methods answer -32005 until server.handshake", async () => {
    const s = await authedSocket(d.strict);
    const err = expectError(await s.call(1, "state.keys"), -32005, 1);
    assert.match(err.message, /^protocol handshake required:/);
    expectResult(await s.call(2, "server.handshake", { protocol_version: 2 }), 2);
    assert.deepEqual(expectResult(await s.call(3, "state.keys"), 3), []);
    s.close();
  });

  test("the daemon stops waiting for a tool after the tool timeout and sends tools.cancel", async () => {
    const s = await authedSocket(d.strict, { handshake: true });
    expectResult(await s.call(1, "tools.register", [{ name: "mute" }]), 1);
    s.text({ jsonrpc: "2.0", id: 2, method: "proposal.submit", params: { proposal: { actions: [{ id: "m", type: "tool_call", tool: "mute" }] } } });
    const cb = (await s.next()).msg;
    assert.equal((cb["params"] as { timeout_ms: number }).timeout_ms, 2000);
    const cancel = (await s.next()).msg;
    assert.equal(cancel["method"], "tools.cancel");
    assert.deepEqual([(cancel["params"] as { request_id: string }).request_id, (cancel["params"] as { action_id: string }).action_id], [cb["id"], "m"]);
    assert.match((cancel["params"] as { reason: string }).reason, /timeout/);
    const r = expectResult((await s.next()).msg, 2) as { results: Array<{ status: string; error: string }> };
    assert.equal(r.results[0]!.status, "failed");
    assert.match(r.results[0]!.error, /timeout/);
    s.close();
  });

  test("a handler past its deadline is answered -32004; the connection stays usable", async () => {
    const s = await authedSocket(d.strict, { handshake: true });
    expectResult(await s.call(1, "tools.register", [{ name: "failing" }]), 1);
    // Deadline: max(500 ms, 6 attempts × 100 ms + 1 s grace) = 1.6 s; the retry backoff alone takes 3.1 s.
    s.text({ jsonrpc: "2.0", id: 2, method: "proposal.submit", params: { proposal: { actions: [{ id: "f", type: "tool_call", tool: "failing", failure_behavior: "retry", max_retries: 5, timeout_ms: 100 }] } } });
    let answer: Record<string, unknown>;
    for (;;) {
      const { msg } = await s.next();
      if (msg["method"] === "tools.execute") s.text({ jsonrpc: "2.0", id: msg["id"], error: { code: -32000, message: "still failing" } });
      else if (msg["id"] === 2) {
        answer = msg;
        break;
      }
    }
    const err = expectError(answer, -32004, 2);
    assert.match(err.message, /deadline/);
    assert.equal((err.data as { deadline_ms: number }).deadline_ms, 1600);
    assert.deepEqual(expectResult(await s.call(3, "state.keys"), 3), []);
    s.close();
  });

  test("SIGTERM: new work is refused, in-flight requests finish, sockets close, the token file is removed", async () => {
    const tokenFile = join(d.strict.carHome, "auth-token");
    assert.ok(existsSync(tokenFile));
    const s = await authedSocket(d.strict, { handshake: true });
    expectResult(await s.call(1, "tools.register", [{ name: "finish" }]), 1);
    s.text({ jsonrpc: "2.0", id: 2, method: "proposal.submit", params: { proposal: { actions: [{ id: "fin", type: "tool_call", tool: "finish", timeout_ms: 60_000 }] } } });
    const cb = (await s.next()).msg;
    assert.equal(cb["method"], "tools.execute");
    d.strict.proc.kill("SIGTERM");
    await d.strict.waitStderr("shutting down");
    expectError(await s.call(3, "state.keys"), -32603, 3);
    await assert.rejects(RawSocket.open(d.strict.url));
    s.text({ jsonrpc: "2.0", id: cb["id"], result: "finished" });
    const r = expectResult((await s.next()).msg, 2) as { results: Array<{ status: string; output: unknown }> };
    assert.deepEqual(r.results.map((x) => [x.status, x.output]), [["succeeded", "finished"]]);
    assert.equal((await s.closed).code, 1001);
    assert.equal(await d.strict.exited, 0);
    assert.equal(existsSync(tokenFile), false);
  });
}
