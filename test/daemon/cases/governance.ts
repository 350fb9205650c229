// Governance and verification over the wire: policies and scopes, verify & co., plan.rank, replan, checkpoints, tenants.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CarClient } from "../../../adapters/client/node.ts";
import type { RuntimeName } from "../harness.ts";
import { expectError, expectResult, type Daemons } from "../helpers.ts";
import { RawSocket } from "../raw-socket.ts";
import { policyFileCases } from "./governance-files.ts";

type Result = { proposal_id: string; results: Array<{ action_id: string; status: string; output: unknown; error: string | null; state_changes: Record<string, unknown> }>; cost: { actions_rejected: number; tool_calls: number } };
type Events = { count: number; events: Array<{ kind: string; policy_session_id?: string; action_id?: string; data: Record<string, unknown> }> };

const NO_RM = { name: "no_rm", rule: "deny_tool_param", target: "shell", key: "command", pattern: "rm -rf" };
const shell = (id: string, command: string) => ({ id, type: "tool_call", tool: "shell", parameters: { command } });

/** Submits `proposal` and answers every tools.execute like cookbook 06 (reading params.params) until the answer arrives. */
export async function submitAnswering(s: RawSocket, id: number, params: Record<string, unknown>, answer: (tool: string, args: Record<string, unknown>) => unknown = () => ({ stdout: "hi\n", stderr: "", code: 0 })): Promise<{ msg: Record<string, unknown>; calls: unknown[] }> {
  s.text({ jsonrpc: "2.0", id, method: "proposal.submit", params });
  const calls: unknown[] = [];
  for (;;) {
    const { msg } = await s.next();
    if (msg["method"] === "tools.execute") {
      const p = msg["params"] as { tool: string; params: Record<string, unknown> };
      calls.push(p.params);
      s.text({ jsonrpc: "2.0", id: msg["id"], result: answer(p.tool, p.params) });
    } else if (msg["id"] === id) return { msg, calls };
  }
}

async function events(s: RawSocket, id: number, kinds: string[]): Promise<Events> {
  return expectResult(await s.call(id, "events.query", { kinds }), id) as Events;
}

export function governanceCases(d: Daemons, rt: RuntimeName): void {
  test("reference §10.2 with the no_rm policy: registered by session.init, rm -rf rejected, the value never echoed", async () => {
    const s = await RawSocket.open(d.open.url);
    const init = expectResult(await s.call(1, "session.init", { tools: [{ name: "shell", description: "run a shell command" }], policies: [NO_RM] }), 1) as Record<string, unknown>;
    assert.deepEqual([typeof init["session_id"], init["tools_registered"], init["policies_registered"]], ["string", 1, 1]);
    const denied = await submitAnswering(s, 4, { proposal: { actions: [shell("a1", "rm -rf /tmp/x")] } });
    assert.deepEqual(denied.calls, []);
    const r = expectResult(denied.msg, 4) as Result;
    assert.equal(r.results[0]!.status, "rejected");
    assert.equal(r.cost.actions_rejected, 1);
    assert.equal(r.cost.tool_calls, 0);
    assert.doesNotMatch(r.results[0]!.error!, /rm -rf/);
    const ok = await submitAnswering(s, 5, { proposal: { actions: [shell("a1", "echo hi")] } });
    assert.deepEqual(ok.calls, [{ command: "echo hi" }]);
    assert.deepEqual((expectResult(ok.msg, 5) as Result).results[0]!.output, { stdout: "hi\n", stderr: "", code: 0 });
    const ev = await events(s, 6, ["policy_violation", "action_rejected"]);
    const violations = ev.events.filter((e) => e.kind === "policy_violation");
    assert.equal(violations.length, 1);
    assert.equal(violations[0]!.data["policy_name"], "no_rm");
    assert.equal(violations[0]!.action_id, "a1");
    assert.doesNotMatch(JSON.stringify(ev.events), /rm -rf/);
    // A policy the daemon cannot honour fails session.init (-32602), never silently dropped.
    const bad = expectError(await s.call(7, "session.init", { tools: [], policies: [{ name: "cb", rule: "deny_tool_callback" }] }), -32602, 7);
    assert.ok(Array.isArray((bad.data as { issues: unknown[] }).issues));
    s.close();
  });

  test("policy.register|list|unregister: {registered, scope}, registration order, removed 0 is not an error, bad definitions -32602", async () => {
    const s = await RawSocket.open(d.open.url);
    assert.deepEqual(expectResult(await s.call(1, "policy.register", { name: "no_shell", rule: "deny_tool", target: "shell" }), 1), { registered: "no_shell", scope: "global" });
    assert.deepEqual(expectResult(await s.call(2, "policy.register", { name: "armed", rule: "require_state", key: "mode", value: "armed", description: "armed only" }), 2), { registered: "armed", scope: "global" });
    const list = expectResult(await s.call(3, "policy.list", {}), 3) as { policies: Array<{ name: string; description: string }>; scope: unknown };
    assert.deepEqual(list.policies.map((p) => p.name), ["no_shell", "armed"]);
    assert.equal(list.policies[1]!.description, "armed only");
    assert.equal(list.scope, "global");
    assert.deepEqual(expectResult(await s.call(4, "policy.unregister", { name: "no_shell" }), 4), { unregistered: "no_shell", removed: 1, scope: "global" });
    assert.deepEqual(expectResult(await s.call(5, "policy.unregister", { name: "no_shell" }), 5), { unregistered: "no_shell", removed: 0, scope: "global" });
    expectError(await s.call(6, "policy.register", { name: "x", rule: "deny_tool" }), -32602, 6);
    const cb = expectError(await s.call(7, "policy.register", { name: "x", rule: "deny_tool_callback", target: "t" }), -32602, 7);
    assert.deepEqual((cb.data as { issues: Array<{ path: unknown[] }> }).issues[0]!.path, ["rule"]);
    assert.deepEqual((expectResult(await s.call(8, "policy.list", {}), 8) as { policies: unknown[] }).policies.length, 1);
    s.close();
  });

  test("policy scopes: session.policy.open/close, scoped policies apply only to proposals submitted with that session_id", async () => {
    const s = await RawSocket.open(d.open.url);
    const own = (expectResult(await s.call(1, "session.init", { tools: [{ name: "shell" }] }), 1) as { session_id: string }).session_id;
    const { session_id: scope } = expectResult(await s.call(2, "session.policy.open", {}), 2) as { session_id: string };
    assert.deepEqual(expectResult(await s.call(3, "policy.register", { ...NO_RM, session_id: scope }), 3), { registered: "no_rm", scope: { session_id: scope } });
    assert.deepEqual((expectResult(await s.call(4, "policy.list", { session_id: scope }), 4) as { policies: Array<{ name: string }> }).policies.map((p) => p.name), ["no_rm"]);
    assert.deepEqual(expectResult(await s.call(5, "policy.list", {}), 5), { policies: [], scope: "global" });
    const proposal = { actions: [shell("a", "rm -rf x")] };
    // Unscoped, and with the connection's own session id (= no scope): the tool runs.
    for (const [id, extra] of [[6, {}], [7, { session_id: own }]] as const) {
      const run = await submitAnswering(s, id, { proposal, ...extra });
      assert.equal((expectResult(run.msg, id) as Result).results[0]!.status, "succeeded");
    }
    const scoped = await submitAnswering(s, 8, { proposal, session_id: scope });
    assert.deepEqual(scoped.calls, []);
    assert.equal((expectResult(scoped.msg, 8) as Result).results[0]!.status, "rejected");
    const v = (await events(s, 9, ["policy_violation"])).events;
    assert.deepEqual(v.map((e) => [e.policy_session_id, e.data["policy_name"]]), [[scope, "no_rm"]]);
    assert.deepEqual(expectResult(await s.call(10, "policy.unregister", { name: "no_rm", session_id: scope }), 10), { unregistered: "no_rm", removed: 1, scope: { session_id: scope } });
    assert.deepEqual(expectResult(await s.call(11, "session.policy.close", { session_id: scope }), 11), { closed: true });
    assert.deepEqual(expectResult(await s.call(12, "session.policy.close", { session_id: scope }), 12), { closed: false });
    const gone = expectError(await s.call(13, "proposal.submit", { proposal, session_id: scope }), -32603, 13);
    assert.equal((gone.data as { car_code: string }).car_code, "not_found");
    expectError(await s.call(14, "policy.register", { ...NO_RM, session_id: scope }), -32603, 14);
    s.close();
  });

  test("verify over the wire: the session's tools, schemas, state and policies (unknown tool, schema violation, policy denial)", async () => {
    const s = await RawSocket.open(d.open.url);
    const fetchTool = { name: "fetch", parameters: { type: "object", properties: { url: { type: "string" } }, required: ["url"] } };
    expectResult(await s.call(1, "session.init", { tools: [{ name: "shell" }, fetchTool], policies: [NO_RM] }), 1);
    const proposal = { actions: [shell("a", "rm -rf /"), { id: "b", type: "tool_call", tool: "teleport" }, { id: "c", type: "tool_call", tool: "fetch", parameters: { url: 3 } }] };
    const v = expectResult(await s.call(2, "verify", { proposal }), 2) as { valid: boolean; issues: Array<{ action_id: string | null; severity: string; tier: string; check: string; message: string }>; evidence: { checks: Array<{ name: string; ran: boolean }> } };
    assert.deepEqual(Object.keys(v).sort(), ["conflicts", "evidence", "execution_levels", "issues", "simulated_state", "valid"]);
    assert.equal(v.valid, false);
    const errors = v.issues.filter((i) => i.severity === "error").map((i) => [i.action_id, i.check]);
    assert.deepEqual(errors.sort(), [["a", "policies"], ["b", "unknown_tool"], ["c", "param_schema"]]);
    assert.ok(v.issues.every((i) => i.tier === "decision_procedure"));
    assert.doesNotMatch(JSON.stringify(v.issues), /rm -rf/);
    assert.equal(v.evidence.checks.find((c) => c.name === "policies")?.ran, true);
    // Verify spends no rate window and runs nothing: the session's state and events are untouched.
    const clean = expectResult(await s.call(3, "verify", { proposal: { actions: [shell("a", "ls"), { id: "w", type: "state_write", parameters: { key: "k", value: 1 } }] }, initial_state: { z: 0 } }), 3) as { valid: boolean; simulated_state: unknown };
    assert.deepEqual([clean.valid, clean.simulated_state], [true, { z: 0, k: 1 }]);
    assert.deepEqual(expectResult(await s.call(4, "state.keys", {}), 4), []);
    expectError(await s.call(5, "verify", { proposal: { actions: [{ id: "x", type: "bogus" }] } }), -32602, 5);
    s.close();
  });

  test("simulate, equivalent, optimize and plan.rank round trips", async () => {
    const s = await RawSocket.open(d.open.url);
    expectResult(await s.call(1, "tools.register", [{ name: "search" }]), 1);
    const write = (id: string, key: string, value: unknown, extra: Record<string, unknown> = {}) => ({ id, type: "state_write", parameters: { key, value }, ...extra });
    const gated = { actions: [write("a", "x", 1), write("b", "y", 2, { preconditions: [{ key: "go", operator: "eq", value: true }] }), write("c", "z", 3, { state_dependencies: ["y"] })] };
    assert.deepEqual(expectResult(await s.call(2, "simulate", { proposal: gated }), 2), { x: 1 });
    const detailed = expectResult(await s.call(3, "simulate", { proposal: gated, initial_state: { go: false }, detailed: true }), 3) as { state: unknown; blocked: Array<{ action_id: string }> };
    assert.deepEqual([detailed.state, detailed.blocked.map((b) => b.action_id)], [{ go: false, x: 1 }, ["b", "c"]]);
    assert.deepEqual(expectResult(await s.call(4, "simulate", { proposal: gated, initial_state: { go: true } }), 4), { go: true, x: 1, y: 2, z: 3 });

    const p1 = { actions: [write("a", "x", 1), write("b", "y", 2)] };
    assert.equal(expectResult(await s.call(5, "equivalent", { p1, p2: { actions: [write("q", "y", 2), write("r", "x", 1)] } }), 5), true);
    assert.equal(expectResult(await s.call(6, "equivalent", { p1, p2: { actions: [write("a", "x", 9), write("b", "y", 2)] } }), 6), false);
    expectError(await s.call(7, "equivalent", { p1 }), -32602, 7);

    const chained = { id: "opt", actions: [write("a", "k", 2), { id: "b", type: "tool_call", tool: "search", state_dependencies: ["k"] }] };
    const opt = expectResult(await s.call(8, "optimize", { proposal: chained, initial_state: { k: 1 }, detailed: true }), 8) as { proposal: { id: string; actions: Array<{ id: string; state_dependencies?: string[] }> }; pruned: unknown; levels_before: number; levels_after: number };
    assert.deepEqual([opt.levels_before, opt.levels_after, opt.pruned], [2, 1, [{ action_id: "b", key: "k" }]]);
    assert.deepEqual(opt.proposal.actions.map((a) => [a.id, a.state_dependencies]), [["a", undefined], ["b", []]]);
    assert.deepEqual(expectResult(await s.call(9, "optimize", { proposal: chained }), 9), chained);

    const good = { actions: [{ id: "s", type: "tool_call", tool: "search" }] };
    const unknown = { actions: [{ id: "t", type: "tool_call", tool: "teleport" }] };
    const ranked = expectResult(await s.call(10, "plan.rank", { candidates: [unknown, "not a proposal", good], config: { cost_weight: 0.2 } }), 10) as Array<{ index: number; valid: boolean; score: number; error_count: number }>;
    assert.deepEqual(ranked.map((r) => [r.index, r.valid, r.error_count]), [[2, true, 0], [0, false, 1], [1, false, 1]]);
    assert.ok(ranked[0]!.score > ranked[1]!.score);
    assert.equal(ranked[2]!.score, 0);
    const fed = expectResult(await s.call(11, "plan.rank", { candidates: [good], feedback: { search: 0.5 } }), 11) as Array<{ historical_confidence: number }>;
    assert.equal(fed[0]!.historical_confidence, 0.5);
    expectError(await s.call(12, "plan.rank", { candidates: [good], config: { cost_weight: 2 } }), -32602, 12);
    s.close();
  });

  test("checkpoint.save returns the reference format; restore by id in a new session, and from the full object", async () => {
    const a = await RawSocket.open(d.open.url);
    expectResult(await a.call(1, "tools.register", [{ name: "shell" }]), 1);
    expectResult(await a.call(2, "state.set", { key: "phase", value: { n: 2 } }), 2);
    const cp = expectResult(await a.call(3, "checkpoint.save", { metadata: { note: "before deploy" } }), 3) as { checkpoint_id: string; created_at: string; state: unknown; events: unknown[]; tools: string[]; metadata: unknown };
    assert.deepEqual(Object.keys(cp).sort(), ["checkpoint_id", "created_at", "events", "metadata", "state", "tools"]);
    assert.deepEqual([cp.state, cp.tools, cp.metadata], [{ phase: { n: 2 } }, ["shell"], { note: "before deploy" }]);
    assert.ok(cp.events.length > 0);
    assert.ok(!Number.isNaN(Date.parse(cp.created_at)));
    a.close();

    const b = await RawSocket.open(d.open.url);
    expectResult(await b.call(1, "state.set", { key: "other", value: 1 }), 1);
    assert.deepEqual(expectResult(await b.call(2, "checkpoint.restore", { checkpoint_id: cp.checkpoint_id }), 2), { checkpoint_id: cp.checkpoint_id, keys: 1, missing_tools: ["shell"] });
    assert.deepEqual(expectResult(await b.call(3, "state.snapshot", {}), 3), { phase: { n: 2 } });
    assert.ok((expectResult(await b.call(4, "checkpoint.list", {}), 4) as { checkpoints: string[] }).checkpoints.includes(cp.checkpoint_id));
    const missing = expectError(await b.call(5, "checkpoint.restore", { checkpoint_id: "no-such-checkpoint" }), -32603, 5);
    assert.equal((missing.data as { car_code: string }).car_code, "not_found");
    expectError(await b.call(6, "checkpoint.restore", { checkpoint_id: cp.checkpoint_id, state: "not an object" }), -32602, 6);
    b.close();

    const c = await RawSocket.open(d.open.url);
    assert.deepEqual(expectResult(await c.call(1, "checkpoint.restore", cp), 1), { checkpoint_id: cp.checkpoint_id, keys: 1, missing_tools: ["shell"] });
    assert.deepEqual(expectResult(await c.call(2, "checkpoint.restore", { checkpoint: { ...cp, state: { phase: 3 } } }), 2), { checkpoint_id: cp.checkpoint_id, keys: 1, missing_tools: ["shell"] });
    assert.equal(expectResult(await c.call(3, "state.get", { key: "phase" }), 3), 3);
    assert.deepEqual(expectResult(await c.call(4, "checkpoint.delete", { checkpoint_id: cp.checkpoint_id }), 4), { deleted: true });
    expectError(await c.call(5, "checkpoint.restore", { checkpoint_id: cp.checkpoint_id }), -32603, 5);
    c.close();
  });

  test("proposal.submit scope.tenantId keeps the proposal's keys in the tenant's namespace", async () => {
    const s = await RawSocket.open(d.open.url);
    const actions = [{ id: "w", type: "state_write", parameters: { key: "k", value: "t1" } }, { id: "r", type: "state_read", parameters: { key: "k" }, state_dependencies: ["k"] }];
    const r = expectResult(await s.call(1, "proposal.submit", { proposal: { actions }, scope: { tenantId: "acme", callerId: "bot" } }), 1) as Result;
    assert.deepEqual(r.results.map((x) => [x.status, x.output, x.state_changes]), [["succeeded", "t1", { k: "t1" }], ["succeeded", "t1", {}]]);
    assert.equal(expectResult(await s.call(2, "state.get", { key: "k", tenant_id: "acme" }), 2), "t1");
    assert.equal(expectResult(await s.call(3, "state.get", { key: "k" }), 3), null);
    assert.deepEqual(expectResult(await s.call(4, "state.keys", {}), 4), []);
    const cross = expectError(await s.call(5, "proposal.submit", { proposal: { actions: [{ id: "w", type: "state_write", parameters: { key: "tenant:acme:k", value: 0 } }] } }), -32602, 5);
    assert.match(cross.message, /tenant-scoped/);
    expectError(await s.call(6, "proposal.submit", { proposal: { actions }, scope: { tenantId: "a:b" } }), -32602, 6);
    s.close();
  });

  test("replan.set_config is validated and stored (→ null); with callback the client proposes the replan (CarClient.onReplan)", async () => {
    const c = new CarClient({ url: d.open.url, env: {}, reconnect: false });
    try {
      await c.toolsRegister([{ name: "flaky" }, { name: "steady" }]);
      await assert.rejects(c.replanSetConfig({ max_replans: -1 }), (e: { rpcCode?: number }) => e.rpcCode === -32602);
      assert.equal(await c.replanSetConfig({ max_replans: 2 }), null);
      assert.deepEqual(await c.replanGetConfig(), { max_replans: 2, delay_ms: 0, verify_before_execute: false, replan_on_rejected: false, callback: false });
      const failing = { actions: [{ id: "w", type: "state_write" as const, parameters: { key: "k", value: 1 } }, { id: "f", type: "tool_call" as const, tool: "flaky", dependencies: ["w"] }] };
      const onToolCall = (call: { tool: string }) => {
        if (call.tool === "flaky") throw new Error("flaky is down");
        return "steady ok";
      };
      // Without the callback nothing replans: there is no source of new proposals over the wire.
      assert.deepEqual((await c.submitProposal(failing, { onToolCall })).results.map((r) => r.status), ["succeeded", "failed"]);
      const asked: Array<{ attempt: number; failed: unknown; state: unknown }> = [];
      c.onReplan((ctx) => {
        asked.push({ attempt: ctx.attempt, failed: ctx.failed_actions.map((f) => [f.action_id, f.status, f.tool]), state: ctx.state });
        return { actions: [{ id: "s", type: "tool_call", tool: "steady" }] };
      });
      assert.equal(await c.replanSetConfig({ max_replans: 1, verify_before_execute: true, callback: true }), null);
      const r = await c.submitProposal(failing, { onToolCall });
      assert.deepEqual(r.results.map((x) => [x.action_id, x.status, x.output]), [["s", "succeeded", "steady ok"]]);
      assert.deepEqual(asked, [{ attempt: 1, failed: [["f", "failed", "flaky"]], state: {} }]);
      const kinds = (await c.eventsQuery({ kinds: ["replan_attempted", "replan_proposal_received"] })).events.map((e) => e.kind);
      assert.deepEqual(kinds, ["replan_proposal_received", "replan_attempted"]);
      assert.equal(await c.stateGet("k"), null);
    } finally {
      c.close();
    }
  });

  policyFileCases(rt);
}
