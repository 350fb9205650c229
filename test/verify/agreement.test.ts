import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, Runtime, SeededRandom, verify, type Action, type PolicyFinding } from "../../src/index.ts";

// Agreement between verify and the engine on random proposals: a proposal verify calls valid, with
// every tool succeeding, executes with no rejected action; and where verify decided every condition
// and found no race, every action succeeds and the final state is the simulated one.

const TOOLS = [{ name: "t0", parameters: { type: "object", properties: { n: { type: "integer" } } } }, { name: "t1" }, { name: "t2" }];
const KEYS = ["k0", "k1", "k2", "k3"];
const OPS = ["eq", "neq", "gt", "lt", "gte", "exists", "not_exists"];

/** The same rule as a verify policyCheck and as an engine guard. */
function policy(a: Action, parameters: Record<string, unknown>): PolicyFinding[] {
  return a.tool === "t2" && parameters["mode"] === "danger" ? [{ name: "deny_tool_param:t2.mode", reason: "mode is not allowed" }] : [];
}

function randomProposal(rnd: SeededRandom) {
  const int = (k: number) => Math.floor(rnd.next() * k);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)]!;
  const n = 1 + int(7);
  const actions: Array<Record<string, unknown>> = [];
  for (let i = 0; i < n; i++) {
    const id = `a${i}`;
    const earlier = i > 0 ? `a${int(i)}` : undefined;
    const a: Record<string, unknown> = { id };
    if (earlier && rnd.next() < 0.3) a["dependencies"] = [earlier];
    if (rnd.next() < 0.35) a["preconditions"] = [{ key: pick(KEYS), operator: pick(OPS), value: int(4) }];
    const r = rnd.next();
    if (r < 0.5) {
      const tool = pick(["t0", "t1", "t2"]);
      a["type"] = "tool_call";
      a["tool"] = tool;
      a["parameters"] = tool === "t0" ? { n: rnd.next() < 0.1 ? "x" : earlier && rnd.next() < 0.2 ? `$${earlier}.output` : int(9) } : tool === "t2" ? { mode: rnd.next() < 0.3 ? "danger" : "safe" } : {};
      if (rnd.next() < 0.6) a["expected_effects"] = { [pick(KEYS)]: rnd.next() < 0.2 ? `$${id}.output` : int(4) };
    } else if (r < 0.75) {
      a["type"] = "state_write";
      a["parameters"] = { key: pick(KEYS), value: earlier && rnd.next() < 0.15 ? `$${earlier}.output` : int(4) };
    } else if (r < 0.9) {
      a["type"] = "assertion";
      a["parameters"] = { key: pick(KEYS), operator: pick(OPS), value: int(4) };
    } else {
      a["type"] = "state_read";
      a["parameters"] = { key: pick(KEYS) };
    }
    actions.push(a);
  }
  const initialState: Record<string, unknown> = {};
  for (const k of KEYS) if (rnd.next() < 0.5) initialState[k] = int(4);
  return { proposal: { actions }, initialState };
}

test("agreement: verify-valid proposals execute with no rejected action (and, when fully decided, all succeed with the simulated state)", async () => {
  const rnd = new SeededRandom(2024);
  let valid = 0;
  let strong = 0;
  let invalid = 0;
  for (let round = 0; round < 400; round++) {
    const { proposal, initialState } = randomProposal(rnd);
    const v = verify(proposal, { tools: TOOLS, initialState, policyCheck: (a) => policy(a, a.parameters) });
    if (!v.valid) {
      invalid++;
      continue;
    }
    valid++;
    const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(round) });
    for (const t of TOOLS) rt.registerTool(t, () => 2);
    rt.addGuard({ check: (a, params) => policy(a, params).map((f) => ({ source: "policy", ...f })) });
    const res = await rt.executeProposal(proposal, { initialState });
    const ctx = JSON.stringify({ proposal, initialState, results: res.results.map((x) => [x.action_id, x.status, x.error]) });
    assert.ok(res.results.every((x) => x.status !== "rejected"), `rejected after verify said valid: ${ctx}`);
    const decidedAll = !v.evidence.checks.find((c) => c.name === "preconditions")!.cannot_verify.some((s) => s.includes("run time"));
    const raceFree = !v.issues.some((i) => i.check === "write_conflicts");
    if (!decidedAll || !raceFree) continue;
    strong++;
    assert.ok(res.results.every((x) => x.status === "succeeded"), `failed although verify decided every condition: ${ctx}`);
    const state = rt.state.snapshot();
    for (const [k, val] of Object.entries(v.simulated_state)) {
      if (typeof val === "string" && val.includes("$")) continue; // a run-time value
      assert.deepEqual(state[k], val, `state ${k}: ${ctx}`);
    }
    assert.deepEqual(Object.keys(state).sort(), Object.keys(v.simulated_state).sort(), ctx);
  }
  // The generator must exercise both sides, or the test proves nothing.
  assert.ok(valid >= 60, `only ${valid} valid proposals`);
  assert.ok(strong >= 40, `only ${strong} fully decided proposals`);
  assert.ok(invalid >= 60, `only ${invalid} invalid proposals`);
});

test("agreement: what verify reports as a policy denial, the engine rejects", async () => {
  const proposal = { actions: [{ id: "d", type: "tool_call", tool: "t2", parameters: { mode: "danger" } }] };
  const v = verify(proposal, { tools: TOOLS, policyCheck: (a) => policy(a, a.parameters) });
  assert.equal(v.valid, false);
  assert.equal(v.issues[0]!.check, "policies");
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(1) });
  for (const t of TOOLS) rt.registerTool(t, () => 2);
  rt.addGuard({ check: (a, params) => policy(a, params).map((f) => ({ source: "policy", ...f })) });
  const res = await rt.executeProposal(proposal);
  assert.equal(res.results[0]!.status, "rejected");
});
