import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_PLANNER_CONFIG, ManualClock, Runtime, SeededRandom, ScoredProposalSchema, ToolFeedback, pickBest, rankProposals } from "../../src/index.ts";

const TOOLS = [{ name: "search", parameters: { type: "object", required: ["q"] } }, { name: "fetch" }, { name: "flaky" }];
const call = (id: string, tool = "fetch", extra: Record<string, unknown> = {}) => ({ id, type: "tool_call", tool, ...extra });

test("ranking order on crafted candidates: invalid last, warnings and sequential chains cost, ties keep input order", () => {
  const candidates = [
    /* 0 invalid: unknown tool */ { actions: [call("a", "nope")] },
    /* 1 valid, 2 independent calls */ { actions: [call("a"), call("b")] },
    /* 2 valid, same calls chained (less parallel) */ { actions: [call("a"), call("b", "fetch", { dependencies: ["a"] })] },
    /* 3 valid with a write conflict (warning + conflict penalty) */ { actions: [call("a", "fetch", { expected_effects: { k: 1 } }), call("b", "fetch", { expected_effects: { k: 2 } })] },
    /* 4 same as 1 */ { actions: [call("a"), call("b")] },
    /* 5 not a proposal at all */ { actions: "nope" },
  ];
  const ranked = rankProposals(candidates, { tools: TOOLS });
  assert.deepEqual(ranked.map((s) => s.index), [1, 4, 2, 3, 0, 5]);
  for (const s of ranked) ScoredProposalSchema.parse(s);
  const by = Object.fromEntries(ranked.map((s) => [s.index, s]));
  assert.equal(by[0]!.valid, false);
  assert.equal(by[0]!.validity, 0);
  assert.equal(by[0]!.error_count, 1);
  assert.equal(by[5]!.score, 0);
  assert.equal(by[3]!.has_write_conflicts, true);
  assert.deepEqual(by[3]!.state_keys_written, ["k"]);
  assert.equal(by[3]!.warning_count, 1);
  assert.equal(by[2]!.parallelism_levels, 2);
  assert.equal(by[1]!.parallelism_levels, 1);
  assert.equal(pickBest(candidates, { tools: TOOLS })!.index, 1);
  assert.equal(pickBest([candidates[0]], { tools: TOOLS }), undefined);
});

test("score follows the reference formula: success·(1−cost_weight) + cost_efficiency·cost_weight", () => {
  const p = {
    actions: [
      call("a", "fetch", { parameters: { n: 1 } }),
      call("b", "fetch", { parameters: { n: 2 }, dependencies: ["a"] }),
      call("c", "fetch", { parameters: { n: 3 }, expected_effects: { k: 1 } }),
      call("d", "fetch", { parameters: { n: 4 }, expected_effects: { k: 2 } }),
    ],
  };
  const cfg = { cost_weight: 0.4, action_budget: 2, tool_call_budget: 8, conflict_penalty: 0.2, warning_penalty: 0.1, token_weight: 0, token_budget: 1 };
  const [s] = rankProposals([p], { tools: TOOLS, config: cfg });
  // One conflict (c, d in level 0): one warning and one conflict.
  assert.equal(s!.warning_count, 1);
  const validity = 1 - 0.1 * 1 - 0.2 * 1;
  assert.ok(Math.abs(s!.validity - validity) < 1e-12);
  // 4 actions over a budget of 2 → 0.5; 4 tool calls within 8 → 1; parallelism (4 − 2 levels)/(4 − 1).
  const cost = (0.5 + 1 + 2 / 3) / 3;
  assert.ok(Math.abs(s!.cost_efficiency - cost) < 1e-12);
  assert.ok(Math.abs(s!.score - (validity * 0.6 + cost * 0.4)) < 1e-12);
  assert.equal(s!.token_estimate, Math.ceil(JSON.stringify(p).length / 4));
  assert.ok(Math.abs(s!.quality_per_token - s!.score / s!.token_estimate) < 1e-12);
  assert.equal(s!.historical_confidence, null);
  assert.equal(DEFAULT_PLANNER_CONFIG.cost_weight, 0.2);
});

test("feedback: score × (1 − w + w·confidence), unknown tools 0.5; it can reorder candidates", () => {
  const viaFlaky = { actions: [call("a", "flaky")] };
  const viaFetch = { actions: [call("a", "fetch"), call("b", "fetch", { dependencies: ["a"] })] };
  assert.deepEqual(rankProposals([viaFetch, viaFlaky], { tools: TOOLS }).map((s) => s.index), [1, 0], "without feedback the parallel plan wins");
  const fb = new ToolFeedback().record("fetch", true, 20).record("flaky", false, 20);
  const ranked = rankProposals([viaFetch, viaFlaky], { tools: TOOLS, feedback: fb });
  assert.deepEqual(ranked.map((s) => s.index), [0, 1]);
  const base = rankProposals([viaFetch], { tools: TOOLS })[0]!.score;
  const conf = 21 / 22;
  assert.ok(Math.abs(ranked[0]!.historical_confidence! - conf) < 1e-12);
  assert.ok(Math.abs(ranked[0]!.score - base * (1 - 0.5 + 0.5 * conf)) < 1e-12);
  assert.equal(rankProposals([{ actions: [call("a", "never_seen")] }], { feedback: fb })[0]!.historical_confidence, 0.5);
  assert.equal(rankProposals([viaFlaky], { feedback: { flaky: 0.9 } })[0]!.historical_confidence, 0.9);
});

test("outcome scores blend in with outcome_weight", () => {
  const a = { actions: [call("a")] };
  const b = { actions: [call("a"), call("b"), call("c")] };
  assert.deepEqual(rankProposals([a, b]).map((s) => s.index), [0, 1]);
  const r = rankProposals([a, b], { outcomes: [0, 1], config: { outcome_weight: 0.5 } });
  assert.deepEqual(r.map((s) => s.index), [1, 0]);
});

test("ToolFeedback from a runtime's event log: per-tool success rates, rejected and skipped count as failures", async () => {
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(3) });
  rt.registerTool({ name: "ok" }, () => 1);
  rt.registerTool({ name: "bad" }, () => {
    throw new Error("boom");
  });
  await rt.executeProposal({ actions: [call("a", "ok"), call("b", "ok")] });
  await rt.executeProposal({ actions: [call("a", "ok"), call("b", "bad", { dependencies: ["a"] }), call("c", "ok", { dependencies: ["b"] })] });
  const fb = ToolFeedback.fromEvents(rt.events.all());
  assert.deepEqual(fb.statsOf("ok"), { succeeded: 3, failed: 1 });
  assert.deepEqual(fb.statsOf("bad"), { succeeded: 0, failed: 1 });
  assert.equal(fb.rate("ok"), 4 / 6);
  assert.equal(fb.rate("unknown"), 0.5);
  assert.deepEqual(ToolFeedback.fromEvents(rt.events.query(), { countSkipped: false }).statsOf("ok"), { succeeded: 3, failed: 0 }, "order does not matter");
  assert.deepEqual(Object.keys(fb.toJSON()), ["bad", "ok"]);
});
