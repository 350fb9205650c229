import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, Runtime, SeededRandom, ToolFeedback } from "../../src/index.ts";

function runtime() {
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(11) });
  const calls: string[] = [];
  rt.registerTool({ name: "primary", parameters: { type: "object", required: ["target"] } }, (p) => {
    calls.push(`primary:${p["target"]}`);
    throw new Error("primary is down");
  });
  rt.registerTool({ name: "backup" }, () => {
    calls.push("backup");
    return "ok";
  });
  return { rt, calls };
}

test("planAndExecute runs the best valid candidate and falls back to the next when it fails", async () => {
  const { rt, calls } = runtime();
  const candidates = [
    /* 0 invalid: missing required parameter, never executed */ { actions: [{ id: "a", type: "tool_call", tool: "primary" }] },
    /* 1 best: one call, fails at run time */ { actions: [{ id: "a", type: "tool_call", tool: "primary", parameters: { target: "x" }, expected_effects: { done: "primary" } }] },
    /* 2 worse: two calls, succeeds */ {
      actions: [
        { id: "a", type: "tool_call", tool: "backup", expected_effects: { done: "backup" } },
        { id: "b", type: "tool_call", tool: "backup", dependencies: ["a"] },
      ],
    },
  ];
  const out = await rt.planAndExecute(candidates, { feedback: new ToolFeedback() });
  assert.deepEqual(out.ranking.map((s) => s.index), [1, 2, 0]);
  assert.equal(out.executed, 2);
  assert.deepEqual(out.attempts.map((a) => [a.index, a.status]), [[1, "failed"], [2, "succeeded"]]);
  assert.equal(out.attempts[0]!.result!.results[0]!.error, "primary is down");
  assert.equal(out.result, out.attempts[1]!.result);
  assert.deepEqual(calls, ["primary:x", "backup", "backup"]);
  assert.equal(rt.state.get("done"), "backup");
});

test("planAndExecute learns from the runtime's event log: a tool that failed before is ranked down", async () => {
  const { rt } = runtime();
  const one = { actions: [{ id: "a", type: "tool_call", tool: "primary", parameters: { target: "x" } }] };
  const two = { actions: [{ id: "a", type: "tool_call", tool: "backup" }, { id: "b", type: "tool_call", tool: "backup" }] };
  assert.deepEqual(rt.verifyProposal(one).valid, true);
  await rt.planAndExecute([one, two], { feedback: new ToolFeedback() }); // primary fails, backup succeeds (recorded)
  const next = await rt.planAndExecute([one, two], { config: { feedback_weight: 1 } });
  assert.deepEqual(next.ranking.map((s) => s.index), [1, 0]);
  assert.deepEqual(next.attempts.map((a) => [a.index, a.status]), [[1, "succeeded"]]);
});

test("planAndExecute with no valid candidate runs nothing; when all fail it reports each attempt", async () => {
  const { rt, calls } = runtime();
  const none = await rt.planAndExecute([{ actions: [{ id: "a", type: "tool_call", tool: "nope" }] }]);
  assert.deepEqual([none.executed, none.result, none.attempts], [null, null, []]);
  const fail = { actions: [{ id: "a", type: "tool_call", tool: "primary", parameters: { target: "1" } }] };
  const fail2 = { actions: [{ id: "a", type: "tool_call", tool: "primary", parameters: { target: "2" } }] };
  const all = await rt.planAndExecute([fail, fail2]);
  assert.equal(all.executed, null);
  assert.deepEqual(all.attempts.map((a) => a.status), ["failed", "failed"]);
  assert.equal(all.result, all.attempts[1]!.result);
  assert.deepEqual(calls, ["primary:1", "primary:2"]);
  const capped = await rt.planAndExecute([fail, fail2], { maxAttempts: 1 });
  assert.equal(capped.attempts.length, 1);
});

test("a fallback candidate is re-verified against the state the failed attempt left", async () => {
  const { rt } = runtime();
  rt.state.set("budget", 1);
  // Candidate 0 verifies, then writes budget 0 and its tool fails with failure_behavior skip: nothing is rolled back.
  const spend = {
    actions: [
      { id: "w", type: "state_write", parameters: { key: "budget", value: 0 } },
      { id: "p", type: "tool_call", tool: "primary", parameters: { target: "t" }, failure_behavior: "skip" },
    ],
  };
  const needsBudget = { actions: [{ id: "x", type: "tool_call", tool: "backup", preconditions: [{ key: "budget", operator: "gt", value: 0 }] }, { id: "y", type: "tool_call", tool: "backup" }] };
  const out = await rt.planAndExecute([spend, needsBudget]);
  assert.equal(rt.state.get("budget"), 0);
  assert.deepEqual(out.attempts.map((a) => [a.index, a.status]), [[0, "failed"], [1, "invalid"]]);
  assert.match(out.attempts[1]!.issues![0]!.message, /budget gt 0 cannot hold: "budget" is 0/);
  assert.equal(out.executed, null);
});

test("rt.verifyProposal uses the runtime's registered schemas and current state", () => {
  const { rt } = runtime();
  const p = { actions: [{ id: "a", type: "tool_call", tool: "primary", parameters: {}, preconditions: [{ key: "ready", operator: "eq", value: true }] }] };
  const before = rt.verifyProposal(p);
  assert.deepEqual(before.issues.map((i) => i.check).sort(), ["param_schema", "preconditions"]);
  rt.state.set("ready", true);
  assert.deepEqual(rt.verifyProposal(p).issues.map((i) => i.check), ["param_schema"]);
  assert.equal(rt.verifyProposal({ actions: [{ id: "a", type: "tool_call", tool: "ghost" }] }).issues[0]!.check, "unknown_tool");
});
