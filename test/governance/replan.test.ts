import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, Runtime, SeededRandom, ValidationError, type ReplanContext } from "../../src/index.ts";

function runtime() {
  const clock = new ManualClock(0);
  const rt = new Runtime({ clock, random: new SeededRandom(11) });
  rt.registerTool({ name: "charge_card" }, () => {
    throw new Error("card declined");
  });
  const paid: unknown[] = [];
  rt.registerTool({ name: "charge_invoice" }, (p) => (paid.push(p), "invoice-1"));
  return { rt, clock, paid };
}

const failing = {
  id: "p-card",
  actions: [
    { id: "hold", type: "state_write", parameters: { key: "balance", value: 5 } },
    { id: "pay", type: "tool_call", tool: "charge_card", parameters: { amount: 5 }, dependencies: ["hold"] },
  ],
};
const working = {
  id: "p-invoice",
  actions: [
    { id: "hold", type: "state_write", parameters: { key: "balance", value: 5 } },
    { id: "pay", type: "tool_call", tool: "charge_invoice", parameters: { amount: 5 }, dependencies: ["hold"] },
  ],
};

test("replan succeeds after one failure; state is rolled back before the callback sees it", async () => {
  const { rt, paid } = runtime();
  rt.state.set("balance", 10);
  const seen: ReplanContext[] = [];
  rt.setReplanCallback((ctx) => {
    seen.push(ctx);
    return working;
  });
  rt.setReplanConfig({ max_replans: 2 });
  const res = await rt.executeProposal(failing);
  assert.equal(res.proposal_id, "p-invoice");
  assert.deepEqual(res.results.map((r) => r.status), ["succeeded", "succeeded"]);
  assert.equal(seen.length, 1);
  const ctx = seen[0]!;
  assert.equal(ctx.attempt, 1);
  assert.equal(ctx.proposal.id, "p-card");
  assert.deepEqual(ctx.state, { balance: 10 }, "the failed proposal's write was rolled back before replanning");
  assert.deepEqual(ctx.failed_actions, [{ action_id: "pay", status: "failed", tool: "charge_card", error: "card declined", params: { amount: 5 } }]);
  assert.equal(ctx.result.results[0]!.rolled_back, true);
  assert.deepEqual(paid, [{ amount: 5 }]);
  assert.equal(rt.state.get("balance"), 5);
  const kinds = rt.events.all().map((e) => e.kind).filter((k) => k.startsWith("replan_") || k === "state_rollback" || k === "proposal_completed");
  assert.deepEqual(kinds, ["state_rollback", "proposal_completed", "replan_attempted", "replan_proposal_received", "proposal_completed"]);
  const attempted = rt.events.query({ kinds: ["replan_attempted"] })[0]!;
  assert.deepEqual(attempted.data, { attempt: 1, failed_actions: [{ action_id: "pay", status: "failed", tool: "charge_card", error: "card declined" }] });
});

test("replan is bounded by max_replans and ends with replan_exhausted", async () => {
  const { rt } = runtime();
  let asked = 0;
  rt.setReplanCallback(() => (asked++, { ...failing, id: `retry-${asked}` }));
  rt.setReplanConfig({ max_replans: 2 });
  const res = await rt.executeProposal(failing);
  assert.equal(asked, 2);
  assert.equal(res.proposal_id, "retry-2");
  assert.equal(res.results[1]!.status, "failed");
  assert.deepEqual(rt.events.query({ kinds: ["replan_exhausted"] }).map((e) => e.data), [{ attempts: 2, max_replans: 2 }]);
});

test("max_replans 0 (the default) disables replanning", async () => {
  const { rt } = runtime();
  let asked = 0;
  rt.setReplanCallback(() => (asked++, working));
  const res = await rt.executeProposal(failing);
  assert.equal(asked, 0);
  assert.equal(res.proposal_id, "p-card");
});

test("verify_before_execute refuses a bad plan without running it, then runs the next one", async () => {
  const { rt } = runtime();
  const issues: unknown[] = [];
  rt.setReplanCallback((ctx) => {
    issues.push(ctx.verify_issues);
    return ctx.attempt === 1 ? { actions: [{ id: "x", type: "tool_call", tool: "no_such_tool" }] } : working;
  });
  rt.setReplanConfig({ max_replans: 3, verify_before_execute: true });
  const res = await rt.executeProposal(failing);
  assert.equal(res.proposal_id, "p-invoice");
  assert.equal(issues[0], undefined);
  const refused = issues[1] as Array<{ action_id: string; severity: string; message: string }>;
  assert.ok(refused.some((i) => i.action_id === "x" && i.severity === "error" && /no_such_tool/.test(i.message)), JSON.stringify(refused));
  const rejected = rt.events.query({ kinds: ["replan_rejected"] });
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0]!.data["reason"], "verification failed");
  assert.equal(rt.events.query({ kinds: ["proposal_received"] }).length, 2, "the refused plan never ran");
});

test("an injected verifier decides (the full verify plugs in here)", async () => {
  const { rt } = runtime();
  rt.setVerifier(() => ({ valid: false, issues: [{ severity: "error", message: "nope" }] }));
  rt.setReplanCallback(() => working);
  rt.setReplanConfig({ max_replans: 1, verify_before_execute: true });
  const res = await rt.executeProposal(failing);
  assert.equal(res.proposal_id, "p-card");
  assert.equal(rt.events.query({ kinds: ["replan_exhausted"] }).length, 1);
});

test("replan_on_rejected: policy rejections replan only when enabled, feeding back the violation", async () => {
  const { rt } = runtime();
  rt.registerPolicy({ name: "no-cards", rule: "deny_tool", target: "charge_card" });
  const seen: ReplanContext[] = [];
  rt.setReplanCallback((ctx) => (seen.push(ctx), working));
  rt.setReplanConfig({ max_replans: 1 });
  const r1 = await rt.executeProposal(failing);
  assert.equal(r1.results[1]!.status, "rejected");
  assert.equal(seen.length, 0);
  rt.setReplanConfig({ replan_on_rejected: true });
  const r2 = await rt.executeProposal(failing);
  assert.equal(r2.proposal_id, "p-invoice");
  assert.equal(seen[0]!.failed_actions[0]!.status, "rejected");
  assert.match(seen[0]!.failed_actions[0]!.error, /no-cards/);
});

test("replan_on_rejected rolls back a run whose rejected action was skip (no abort happened)", async () => {
  const { rt } = runtime();
  rt.registerPolicy({ name: "no-cards", rule: "deny_tool", target: "charge_card" });
  let state: unknown;
  rt.setReplanCallback((ctx) => ((state = ctx.state), null));
  rt.setReplanConfig({ max_replans: 1, replan_on_rejected: true });
  await rt.executeProposal({ actions: [{ id: "w", type: "state_write", parameters: { key: "x", value: 1 } }, { id: "c", type: "tool_call", tool: "charge_card", failure_behavior: "skip" }] });
  assert.deepEqual(state, {});
  assert.equal(rt.state.exists("x"), false);
  assert.equal(rt.events.query({ kinds: ["replan_rejected"] })[0]!.data["reason"], "callback returned no proposal");
});

test("delay_ms waits on the injected clock before asking", async () => {
  const { rt, clock } = runtime();
  let askedAt = -1;
  rt.setReplanCallback(() => ((askedAt = clock.now()), working));
  rt.setReplanConfig({ max_replans: 1, delay_ms: 250 });
  await rt.executeProposal(failing);
  assert.equal(askedAt, 250);
});

test("a callback that throws or returns an invalid proposal ends replanning cleanly", async () => {
  const { rt } = runtime();
  rt.setReplanCallback(() => {
    throw new Error("planner offline");
  });
  rt.setReplanConfig({ max_replans: 3 });
  const res = await rt.executeProposal(failing);
  assert.equal(res.proposal_id, "p-card");
  assert.match(String(rt.events.query({ kinds: ["replan_rejected"] })[0]!.data["reason"]), /planner offline/);
  rt.setReplanCallback(() => ({ actions: [{ id: "a", type: "state_write", parameters: { key: "k" }, dependencies: ["zz"] }] }));
  const res2 = await rt.executeProposal(failing);
  assert.equal(res2.proposal_id, "p-card");
  assert.ok(rt.events.query({ kinds: ["replan_rejected"] }).some((e) => /invalid proposal/.test(String(e.data["reason"]))));
  assert.throws(() => rt.setReplanConfig({ max_replans: -1 }), ValidationError);
});
