import { test } from "node:test";
import assert from "node:assert/strict";
import { equivalent, optimize, optimizeWithReport, simulate, simulateDetailed, verify } from "../../src/index.ts";

test("simulate skips the effects of a blocked action and, cascading, of everything after it", () => {
  const p = {
    actions: [
      { id: "pay", type: "tool_call", tool: "bank", preconditions: [{ key: "balance", operator: "gte", value: 100 }], expected_effects: { paid: true } },
      { id: "receipt", type: "state_write", parameters: { key: "receipt", value: "$pay.output" } },
      { id: "notify", type: "tool_call", tool: "mail", dependencies: ["receipt"], expected_effects: { notified: true } },
      { id: "log", type: "state_write", parameters: { key: "log", value: "tried" } },
    ],
  };
  const d = simulateDetailed(p, { balance: 10 });
  assert.deepEqual(d.state, { balance: 10, log: "tried" });
  assert.deepEqual(d.blocked, [
    { action_id: "pay", reason: "precondition balance gte 100 fails" },
    { action_id: "receipt", reason: "dependency pay was blocked" },
    { action_id: "notify", reason: "dependency receipt was blocked" },
  ]);
  // With enough balance everything lands; the payment output is a run-time value.
  assert.deepEqual(simulate(p, { balance: 500 }), { balance: 500, paid: true, receipt: "$pay.output", log: "tried", notified: true });
  // verify is one pass: it reports the impossible precondition once and does not cascade.
  const v = verify(p, { initialState: { balance: 10 } });
  assert.equal(v.issues.filter((i) => i.severity === "error").length, 1);
  assert.equal(v.simulated_state["notified"], true);
});

test("simulate blocks missing dependencies and policy-denied actions (gated actions are not assumed to run)", () => {
  const p = {
    actions: [
      { id: "a", type: "tool_call", tool: "t", state_dependencies: ["cfg"], expected_effects: { x: 1 } },
      { id: "b", type: "tool_call", tool: "shell", expected_effects: { y: 1 } },
      { id: "c", type: "state_write", parameters: { key: "z", value: "$b.output" } },
    ],
  };
  const d = simulateDetailed(p, {}, { policyCheck: (a) => (a.tool === "shell" ? [{ name: "deny_tool:shell", reason: "no" }] : []) });
  assert.deepEqual(d.state, {});
  assert.deepEqual(d.blocked.map((b) => b.action_id), ["a", "b", "c"]);
  assert.match(d.blocked[0]!.reason, /missing dependency cfg/);
  assert.match(d.blocked[1]!.reason, /denied by policy deny_tool:shell/);
  assert.deepEqual(simulate(p, { cfg: true }), { cfg: true, x: 1, y: 1, z: "$b.output" });
});

test("simulate resolves references to values known statically", () => {
  const p = {
    actions: [
      { id: "w", type: "state_write", parameters: { key: "n", value: { count: 3 } } },
      { id: "r", type: "state_read", parameters: { key: "n" } },
      { id: "t", type: "tool_call", tool: "t", dependencies: ["r"], expected_effects: { copy: "$r.output.count", text: "n=$w.output.count" } },
    ],
  };
  assert.deepEqual(simulate(p), { n: { count: 3 }, copy: 3, text: "n=3" });
});

test("equivalent: default probes {} and {x:1,y:2}; reordering independent actions is equivalent, different effects are not", () => {
  const w = (id: string, key: string, value: unknown, extra: Record<string, unknown> = {}) => ({ id, type: "state_write", parameters: { key, value }, ...extra });
  assert.equal(equivalent({ actions: [w("a", "p", 1), w("b", "q", 2)] }, { actions: [w("b", "q", 2), w("a", "p", 1)] }), true);
  assert.equal(equivalent({ actions: [w("a", "p", 1)] }, { actions: [w("a", "p", 2)] }), false);
  // Agree on {} but not on {x:1,y:2}: the second probe tells them apart.
  const guarded = { actions: [w("a", "p", 1, { preconditions: [{ key: "x", operator: "not_exists" }] })] };
  assert.equal(equivalent(guarded, { actions: [w("a", "p", 1)] }, [{}]), true);
  assert.equal(equivalent(guarded, { actions: [w("a", "p", 1)] }), false);
  assert.equal(equivalent({ actions: [] }, { actions: [w("a", "x", 1)] }, [{}]), false);
  assert.equal(equivalent({ actions: [] }, { actions: [w("a", "x", 1)] }, [{ x: 1 }]), true);
});

test("equivalent compares run-time values structurally, whatever the action ids", () => {
  const plan = (a: string, b: string, q: string) => ({
    actions: [
      { id: a, type: "tool_call", tool: "search", parameters: { q }, expected_effects: { hits: `$${a}.output` } },
      { id: b, type: "tool_call", tool: "summarize", parameters: { text: `$${a}.output` }, expected_effects: { summary: `$${b}.output` } },
    ],
  });
  assert.equal(equivalent(plan("s", "t", "cats"), plan("first", "second", "cats")), true);
  assert.equal(equivalent(plan("s", "t", "cats"), plan("s", "t", "dogs")), false);
});

test("optimize prunes phantom state_dependencies so actions share a level; never reorders or removes actions", () => {
  const p = {
    actions: [
      { id: "refresh", type: "tool_call", tool: "load_user", expected_effects: { user: "$refresh.output" } },
      { id: "greet", type: "tool_call", tool: "mail", state_dependencies: ["user", "ghost"], parameters: { to: "x" } },
      { id: "audit", type: "tool_call", tool: "log", state_dependencies: ["user"], preconditions: [{ key: "user", operator: "exists" }] },
    ],
  };
  const initialState = { user: { name: "ada" } };
  const before = verify(p, { initialState });
  assert.deepEqual(before.execution_levels, [["refresh"], ["greet", "audit"]]);
  const r = optimizeWithReport(p, { initialState });
  assert.deepEqual(r.pruned, [{ action_id: "greet", key: "user" }, { action_id: "audit", key: "user" }]);
  assert.equal(r.levels_before, 2);
  assert.equal(r.levels_after, 2, "audit keeps its precondition edge");
  const after = verify(r.proposal, { initialState });
  assert.deepEqual(after.execution_levels, [["refresh", "greet"], ["audit"]]);
  // Same actions, same order, same fields except the pruned keys; "ghost" (never written, not available) is kept for verify to report.
  assert.deepEqual(r.proposal.actions.map((a) => a.id), ["refresh", "greet", "audit"]);
  assert.deepEqual(r.proposal.actions[1]!.state_dependencies, ["ghost"]);
  assert.deepEqual(r.proposal.actions[0], p.actions[0]);
  assert.deepEqual(p.actions[1]!.state_dependencies, ["user", "ghost"], "the input is not mutated");
  assert.equal(equivalent(p, r.proposal, [initialState]), true);
  assert.deepEqual(optimize(p).actions.map((a) => a.state_dependencies), [undefined, ["user", "ghost"], ["user"]], "nothing is available without a state");
});

test("optimize reduces the number of levels of a chain held together only by available keys", () => {
  const chain = {
    actions: [0, 1, 2, 3].map((i) => ({
      id: `s${i}`,
      type: "tool_call",
      tool: `step${i}`,
      expected_effects: { [`k${i}`]: i },
      state_dependencies: i > 0 ? [`k${i - 1}`] : [],
    })),
  };
  const state = { k0: 0, k1: 1, k2: 2 };
  const r = optimizeWithReport(chain, { initialState: state });
  assert.equal(r.levels_before, 4);
  assert.equal(r.levels_after, 1);
  assert.equal(equivalent(chain, r.proposal, [state]), true);
  // A pruning that would make two writers of one key concurrent is not done.
  const sameKey = {
    actions: [
      { id: "a", type: "tool_call", tool: "t", expected_effects: { k: 1, out: 1 } },
      { id: "b", type: "tool_call", tool: "t", state_dependencies: ["k"], expected_effects: { out: 2 } },
    ],
  };
  assert.deepEqual(optimizeWithReport(sameKey, { initialState: { k: 0 } }).pruned, []);
});
