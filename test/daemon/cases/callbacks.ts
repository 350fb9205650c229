// The tools.execute round trip (reference §1.5): params, retries, errors, timeouts and tools.cancel.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CarClient } from "../../../adapters/client/node.ts";
import { authedSocket, expectResult, type Daemons } from "../helpers.ts";
import type { RawSocket } from "../raw-socket.ts";

type Result = { results: Array<{ action_id: string; status: string; output: unknown; error: string | null }>; cost: { retries: number; tool_calls: number } };

async function submit(s: RawSocket, id: number, actions: unknown[]): Promise<void> {
  s.text({ jsonrpc: "2.0", id, method: "proposal.submit", params: { proposal: { actions } } });
}

export function callbackCases(d: Daemons): void {
  test("tools.execute carries parameters and params, action_id, attempt, request_id, session_id, timeout_ms", async () => {
    const s = await authedSocket(d.auth);
    const init = expectResult(await s.call(1, "session.init", { tools: [{ name: "echo", description: "echoes" }] }), 1) as { session_id: string; tools_registered: number };
    assert.equal(init.tools_registered, 1);
    await submit(s, 2, [{ id: "a1", type: "tool_call", tool: "echo", parameters: { text: "hi", n: [1, 2] }, timeout_ms: 20_000 }]);
    const cb = (await s.next()).msg;
    assert.equal(cb["method"], "tools.execute");
    assert.match(String(cb["id"]), /^cb-\d+$/);
    const p = cb["params"] as Record<string, unknown>;
    assert.deepEqual(p["parameters"], { text: "hi", n: [1, 2] });
    assert.deepEqual(p["params"], p["parameters"]);
    assert.equal(p["action_id"], "a1");
    assert.equal(p["tool"], "echo");
    assert.equal(p["attempt"], 1);
    assert.equal(p["request_id"], cb["id"]);
    assert.equal(p["session_id"], init.session_id);
    assert.equal(p["timeout_ms"], 20_000);
    s.text({ jsonrpc: "2.0", id: cb["id"], result: { echoed: "hi" } });
    const r = expectResult((await s.next()).msg, 2) as Result;
    assert.deepEqual(r.results.map((x) => [x.status, x.output]), [["succeeded", { echoed: "hi" }]]);
    s.close();
  });

  test("attempt counts retries; an error answer fails the attempt", async () => {
    const s = await authedSocket(d.auth);
    expectResult(await s.call(1, "tools.register", [{ name: "flaky" }]), 1);
    await submit(s, 2, [{ id: "f", type: "tool_call", tool: "flaky", failure_behavior: "retry", max_retries: 2 }]);
    const first = (await s.next()).msg;
    assert.equal((first["params"] as { attempt: number }).attempt, 1);
    s.text({ jsonrpc: "2.0", id: first["id"], error: { code: -32000, message: "boom" } });
    const second = (await s.next()).msg;
    assert.equal((second["params"] as { attempt: number }).attempt, 2);
    assert.notEqual(second["id"], first["id"]);
    s.text({ jsonrpc: "2.0", id: second["id"], result: "ok" });
    const r = expectResult((await s.next()).msg, 2) as Result;
    assert.equal(r.results[0]!.status, "succeeded");
    assert.equal(r.cost.retries, 1);
    assert.equal(r.cost.tool_calls, 2);
    s.close();
  });

  test("a result object {error: ...} is a tool error", async () => {
    const s = await authedSocket(d.auth);
    expectResult(await s.call(1, "tools.register", [{ name: "t" }]), 1);
    await submit(s, 2, [{ id: "a", type: "tool_call", tool: "t" }]);
    const cb = (await s.next()).msg;
    s.text({ jsonrpc: "2.0", id: cb["id"], result: { error: "unknown tool: t" } });
    const r = expectResult((await s.next()).msg, 2) as Result;
    assert.equal(r.results[0]!.status, "failed");
    assert.match(r.results[0]!.error!, /unknown tool: t/);
    s.close();
  });

  test("an action's timeout_ms sends tools.cancel and fails the action", async () => {
    const s = await authedSocket(d.auth);
    expectResult(await s.call(1, "tools.register", [{ name: "slow" }]), 1);
    await submit(s, 2, [{ id: "slow-1", type: "tool_call", tool: "slow", timeout_ms: 300 }]);
    const cb = (await s.next()).msg;
    assert.equal(cb["method"], "tools.execute");
    const cancel = (await s.next()).msg;
    assert.equal(cancel["method"], "tools.cancel");
    assert.equal("id" in cancel, false);
    const cp = cancel["params"] as { request_id: string; action_id: string; reason: string };
    assert.equal(cp.request_id, cb["id"]);
    assert.equal(cp.action_id, "slow-1");
    assert.match(cp.reason, /timeout/);
    const r = expectResult((await s.next()).msg, 2) as Result;
    assert.equal(r.results[0]!.status, "failed");
    assert.match(r.results[0]!.error!, /timeout/);
    // A late answer to the cancelled call is ignored; the session goes on.
    s.text({ jsonrpc: "2.0", id: cb["id"], result: "too late" });
    assert.deepEqual(expectResult(await s.call(3, "state.keys"), 3), []);
    s.close();
  });

  test("MessagePack clients get their callbacks in MessagePack", async () => {
    const s = await authedSocket(d.auth);
    expectResult(await s.call(1, "tools.register", [{ name: "bin" }]), 1);
    s.binary({ jsonrpc: "2.0", id: 2, method: "proposal.submit", params: { proposal: { actions: [{ id: "b", type: "tool_call", tool: "bin", parameters: { x: 1 } }] } } });
    const cb = await s.next();
    assert.equal(cb.binary, true);
    assert.deepEqual((cb.msg["params"] as { params: unknown }).params, { x: 1 });
    s.binary({ jsonrpc: "2.0", id: cb.msg["id"], result: { y: 2 } });
    const done = await s.next();
    assert.equal(done.binary, true);
    assert.deepEqual((expectResult(done.msg, 2) as Result).results[0]!.output, { y: 2 });
    s.close();
  });

  test("CarClient.submitProposal answers tools.execute; tools.cancel aborts the handler's signal", async () => {
    for (const encoding of ["json", "msgpack"] as const) {
      const c = new CarClient({ url: d.auth.url, env: { CAR_HOME: d.auth.carHome }, encoding });
      try {
        await c.toolsRegister([{ name: "add" }, { name: "wait" }]);
        const calls: unknown[] = [];
        const r = await c.submitProposal(
          { actions: [{ id: "sum", type: "tool_call", tool: "add", parameters: { a: 2, b: 3 } }, { id: "save", type: "state_write", parameters: { key: "total", value: "$sum.output" } }] },
          { onToolCall: (call) => (calls.push(call.params), Number(call.parameters["a"]) + Number(call.parameters["b"])) },
        );
        assert.deepEqual(r.results.map((x) => x.status), ["succeeded", "succeeded"]);
        assert.deepEqual(calls, [{ a: 2, b: 3 }]);
        assert.equal(await c.stateGet("total"), 5);

        let aborted = "";
        const t = await c.submitProposal({ actions: [{ id: "w", type: "tool_call", tool: "wait", timeout_ms: 300 }] }, {
          onToolCall: (_call, { signal }) =>
            new Promise((_, reject) => signal.addEventListener("abort", () => ((aborted = String((signal.reason as Error).message)), reject(signal.reason)))),
        });
        assert.equal(t.results[0]!.status, "failed");
        assert.match(aborted, /timeout/);
      } finally {
        c.close();
      }
    }
  });
}
