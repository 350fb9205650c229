import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, Runtime, SeededRandom, ValidationError } from "../../src/index.ts";

function runtime(clock = new ManualClock()) {
  const rt = new Runtime({ clock, random: new SeededRandom(9) });
  const calls: string[] = [];
  for (const name of ["search", "shell", "mail"]) rt.registerTool({ name }, () => void calls.push(name));
  return { rt, calls, clock };
}
const call = (id: string, tool: string, extra: Record<string, unknown> = {}) => ({ id, type: "tool_call" as const, tool, failure_behavior: "skip" as const, ...extra });
const write = (id: string, key: string, extra: Record<string, unknown> = {}) => ({ id, type: "state_write" as const, parameters: { key, value: 1 }, failure_behavior: "skip" as const, ...extra });

test("capabilities: allowed_tools, denied_tools (overrides allowed), allowed_state_keys reject at validation", async () => {
  const { rt, calls } = runtime();
  rt.setCapabilities({ allowed_tools: ["search", "shell"], denied_tools: ["shell"], allowed_state_keys: ["notes"] });
  const res = await rt.executeProposal({ actions: [call("a", "search"), call("b", "shell"), call("c", "mail"), write("d", "notes"), write("e", "secrets"), call("f", "search", { expected_effects: { other: 1 } })] });
  assert.deepEqual(res.results.map((r) => r.status), ["succeeded", "rejected", "rejected", "succeeded", "rejected", "rejected"]);
  assert.match(res.results[1]!.error!, /capability:denied_tool:shell/);
  assert.match(res.results[2]!.error!, /capability:tool_not_allowed:mail/);
  assert.match(res.results[4]!.error!, /capability:state_key:secrets/);
  assert.match(res.results[5]!.error!, /capability:state_key:other/);
  assert.deepEqual(res.cost, { tool_calls: 1, actions_executed: 2, actions_rejected: 4, actions_skipped: 0, total_duration_ms: 0, retries: 0 });
  assert.deepEqual(calls, ["search"]);
  // capability rejections are not policy violations
  assert.equal(rt.events.query({ kinds: ["policy_violation"] }).length, 0);
  rt.setCapabilities(undefined);
  assert.equal((await rt.executeProposal({ actions: [call("x", "mail")] })).results[0]!.status, "succeeded");
});

test("capabilities: max_actions rejects the whole proposal before anything runs", async () => {
  const { rt, calls } = runtime();
  rt.setCapabilities({ max_actions: 2 });
  const res = await rt.executeProposal({ actions: [call("a", "search"), call("b", "search"), write("c", "k")] });
  assert.deepEqual(res.results.map((r) => r.status), ["rejected", "rejected", "rejected"]);
  assert.match(res.results[0]!.error!, /capability:max_actions: proposal has 3 actions; capabilities allow at most 2/);
  assert.deepEqual(res.cost, { tool_calls: 0, actions_executed: 0, actions_rejected: 3, actions_skipped: 0, total_duration_ms: 0, retries: 0 });
  assert.deepEqual(calls, []);
  assert.equal(rt.state.exists("k"), false);
});

test("a bad capability set or budget is a ValidationError", () => {
  const { rt } = runtime();
  assert.throws(() => rt.setCapabilities({ max_actions: -1 }), ValidationError);
  assert.throws(() => rt.setBudget({ max_tool_calls: "3" as unknown as number }), ValidationError);
});

test("budget over at admission: max_actions and max_tool_calls reject every action", async () => {
  const { rt, calls } = runtime();
  rt.setBudget({ max_actions: 5, max_tool_calls: 1 });
  const res = await rt.executeProposal({ actions: [call("a", "search"), call("b", "search"), write("c", "k")] });
  assert.deepEqual(res.results.map((r) => r.status), ["rejected", "rejected", "rejected"]);
  assert.match(res.results[0]!.error!, /budget:max_tool_calls: proposal has 2 tool calls; the budget allows 1/);
  assert.deepEqual(res.cost, { tool_calls: 0, actions_executed: 0, actions_rejected: 3, actions_skipped: 0, total_duration_ms: 0, retries: 0 });
  assert.deepEqual(calls, []);
  rt.setBudget({ max_actions: 2 });
  const res2 = await rt.executeProposal({ actions: [write("a", "x"), write("b", "y"), write("c", "z")] });
  assert.equal(res2.cost.actions_rejected, 3);
  assert.match(res2.results[0]!.error!, /budget:max_actions/);
});

test("budget exhausted mid-run by retries: remaining tool calls are skipped with 'budget exhausted:'", async () => {
  const { rt } = runtime();
  let n = 0;
  rt.registerTool({ name: "flaky" }, () => {
    if (++n < 3) throw new Error("try again");
    return "ok";
  });
  rt.setBudget({ max_tool_calls: 3 });
  const res = await rt.executeProposal({
    actions: [
      { id: "a", type: "tool_call", tool: "flaky", failure_behavior: "retry", max_retries: 5 },
      call("b", "search", { dependencies: ["a"] }),
      write("c", "after", { dependencies: ["a"] }),
    ],
  });
  assert.deepEqual(res.results.map((r) => r.status), ["succeeded", "skipped", "succeeded"]);
  assert.match(res.results[1]!.error!, /^budget exhausted: max_tool_calls 3 reached/);
  assert.deepEqual(res.cost, { tool_calls: 3, actions_executed: 2, actions_rejected: 0, actions_skipped: 1, total_duration_ms: 300, retries: 2 });
  assert.equal(rt.state.get("after"), 1, "a budget skip is not an abort: state is committed");
});

test("budget max_duration_ms exhausted mid-run: every remaining action is skipped", async () => {
  const { rt, clock } = runtime();
  rt.registerTool({ name: "slow" }, () => {
    clock.advance(1_500);
    return "done";
  });
  rt.setBudget({ max_duration_ms: 1_000 });
  const res = await rt.executeProposal({
    actions: [call("a", "slow"), call("b", "search", { dependencies: ["a"] }), write("c", "k", { dependencies: ["a"] }), call("d", "search", { dependencies: ["b"] })],
  });
  assert.deepEqual(res.results.map((r) => r.status), ["succeeded", "skipped", "skipped", "skipped"]);
  assert.match(res.results[1]!.error!, /^budget exhausted: max_duration_ms 1000 reached after 1500 ms/);
  assert.match(res.results[2]!.error!, /^budget exhausted:/);
  assert.match(res.results[3]!.error!, /^skipped: dependency b skipped/);
  assert.deepEqual(res.cost, { tool_calls: 1, actions_executed: 1, actions_rejected: 0, actions_skipped: 3, total_duration_ms: 1500, retries: 0 });
  const skipped = rt.events.query({ kinds: ["action_skipped"], action_id: "b" })[0]!;
  assert.deepEqual((skipped.data["violations"] as Array<{ name: string }>).map((v) => v.name), ["budget:max_duration_ms"]);
});

test("guards, capabilities and policies together: every violation is collected", async () => {
  const { rt } = runtime();
  rt.setCapabilities({ denied_tools: ["shell"] });
  rt.registerPolicy({ name: "p", rule: "deny_tool", target: "shell" });
  const res = await rt.executeProposal({ actions: [call("a", "shell")] });
  assert.match(res.results[0]!.error!, /^rejected: capability:denied_tool:shell: .*; p: /);
  assert.equal(res.cost.actions_rejected, 1);
});
