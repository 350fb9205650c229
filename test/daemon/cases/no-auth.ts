// The --no-auth daemon: reference §10.2's minimal client unchanged, default frame limit, startup refusals.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runRefused, type RuntimeName } from "../harness.ts";
import { expectError, expectResult, type Daemons } from "../helpers.ts";
import { RawSocket } from "../raw-socket.ts";

const MiB = 1024 * 1024;

/** Whether the daemon answers `method` (-32601 means the feature is not built in yet). */
async function answers(url: string, method: string, params: unknown): Promise<boolean> {
  const s = await RawSocket.open(url);
  const msg = await s.call(1, method, params);
  s.close();
  return (msg["error"] as { code?: number } | undefined)?.code !== -32601;
}

/** Cookbook 06's loop: answer tools.execute from params.params until the answer to id 4 arrives. */
async function runShellLoop(s: RawSocket): Promise<{ result: unknown; commands: unknown[] }> {
  const commands: unknown[] = [];
  for (;;) {
    const { msg } = await s.next();
    if (msg["method"] === "tools.execute") {
      const p = msg["params"] as { tool: string; params: { command: string } };
      commands.push(p.params.command);
      const result = p.tool === "shell" ? { stdout: "hi\n", stderr: "", code: 0 } : { error: `unknown tool: ${p.tool}` };
      s.text({ jsonrpc: "2.0", result, id: msg["id"] });
    } else if (msg["id"] === 4) return { result: expectResult(msg, 4), commands };
  }
}

export function noAuthCases(d: Daemons, rt: RuntimeName): void {
  test("--no-auth prints 'auth disabled' and accepts any token with auth_enabled:false", async () => {
    assert.equal(d.open.stdout[1], "auth disabled");
    const s = await RawSocket.open(d.open.url);
    assert.deepEqual(expectResult(await s.call(1, "session.auth", { token: "anything" }), 1), { ok: true, auth_enabled: false });
    s.close();
  });

  test("reference §10.2 minimal client (cookbook 06), exact traffic, no session.auth", async () => {
    const policies = await answers(d.open.url, "policy.list", {});
    const memory = await answers(d.open.url, "memory.fact_count", {});
    const s = await RawSocket.open(d.open.url);
    s.text(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "session.init", params: { tools: [{ name: "shell", description: "run a shell command" }], policies: [{ name: "no_rm", rule: "deny_tool_param", target: "shell", key: "command", pattern: "rm -rf" }] } }));
    const init = (await s.next()).msg;
    if (policies) {
      const r = expectResult(init, 1) as Record<string, unknown>;
      assert.equal(typeof r["session_id"], "string");
      assert.equal(r["tools_registered"], 1);
      assert.equal(r["policies_registered"], 1);
    } else {
      // Until the policies feature lands, a policy cannot be honoured, so nothing is registered (fail closed).
      assert.match(expectError(init, -32603, 1).message, /policies are not available/);
    }
    s.text(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "memory.add_fact", params: { subject: "lang", body: "Python", kind: "pattern" } }));
    const fact = (await s.next()).msg;
    if (memory) assert.equal(typeof expectResult(fact, 2), "number");
    else expectError(fact, -32601, 2);
    s.text(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "memory.build_context", params: { query: "what language is this?" } }));
    const ctx = (await s.next()).msg;
    if (memory) assert.equal(typeof expectResult(ctx, 3), "string");
    else expectError(ctx, -32601, 3);
    s.text(JSON.stringify({ jsonrpc: "2.0", id: 4, method: "proposal.submit", params: { proposal: { actions: [{ id: "a1", type: "tool_call", tool: "shell", parameters: { command: "echo hi" } }] } } }));
    const { result, commands } = await runShellLoop(s);
    const r = result as { results: Array<{ status: string; output: unknown; error: string | null }> };
    if (policies) {
      assert.deepEqual(commands, ["echo hi"]);
      assert.deepEqual(r.results[0]!.output, { stdout: "hi\n", stderr: "", code: 0 });
    } else {
      assert.equal(r.results[0]!.status, "failed");
      assert.match(r.results[0]!.error!, /unknown tool: shell/);
    }
    s.close();
  });

  test("the same client without the policy: tools.execute answered via params.params", async () => {
    const s = await RawSocket.open(d.open.url);
    const init = expectResult(await s.call(1, "session.init", { tools: [{ name: "shell", description: "run a shell command" }] }), 1) as Record<string, unknown>;
    assert.deepEqual([init["tools_registered"], init["policies_registered"]], [1, 0]);
    s.text(JSON.stringify({ jsonrpc: "2.0", id: 4, method: "proposal.submit", params: { proposal: { actions: [{ id: "a1", type: "tool_call", tool: "shell", parameters: { command: "echo hi" } }] } } }));
    const { result, commands } = await runShellLoop(s);
    assert.deepEqual(commands, ["echo hi"]);
    const r = result as { results: Array<{ status: string; output: unknown }> };
    assert.deepEqual(r.results.map((x) => [x.status, x.output]), [["succeeded", { stdout: "hi\n", stderr: "", code: 0 }]]);
    s.close();
  });

  test("frames over the default 16 MiB limit are answered -32600 and the connection stays usable", async () => {
    const s = await RawSocket.open(d.open.url);
    s.text(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "state.set", params: { key: "big", value: "x".repeat(16 * MiB) } }));
    const err = expectError((await s.next(60_000)).msg, -32600, null);
    assert.match(err.message, /max_frame_bytes/);
    s.binary(new Uint8Array(16 * MiB + 1));
    const bin = await s.next(60_000);
    assert.equal(bin.binary, true);
    expectError(bin.msg, -32600, null);
    assert.equal(expectResult(await s.call(2, "state.set", { key: "small", value: "x".repeat(1024) }), 2), "ok");
    s.close();
  });

  test("a foreign Origin is refused even with auth off", async () => {
    await assert.rejects(RawSocket.open(d.open.url, { origin: "http://attacker.example" }), (e: { status?: number }) => e.status === 403);
    await assert.rejects(RawSocket.open(d.open.url, { origin: "null" }), (e: { status?: number }) => e.status === 403);
  });

  test("refuses to start with auth off on a non-loopback address, and on bad flags", async () => {
    const open = await runRefused(rt, ["--host", "0.0.0.0", "--port", "0", "--no-auth"]);
    assert.equal(open.code, 2);
    assert.match(open.stderr, /refusing to listen on 0\.0\.0\.0 with auth disabled/);
    assert.doesNotMatch(open.stdout, /listening/);
    const bad = await runRefused(rt, ["--port", "0", "--bogus"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bogus/);
  });
}
