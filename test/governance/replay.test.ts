import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, ReplayDivergenceError, Runtime, SeededRandom, replay, type Event } from "../../src/index.ts";

/** A recorded session that exercises policies, capabilities, budget skips, cache hits, dedups, retries, rate limits and a replan. */
async function governedSession() {
  const clock = new ManualClock(Date.UTC(2026, 3, 1));
  const rt = new Runtime({ clock, random: new SeededRandom(5) });
  let toolCalls = 0;
  let flaky = 0;
  rt.registerTool({ name: "search", cache_ttl_secs: 60, rate_limit: { max_calls: 1, interval_secs: 2 } }, (p) => (toolCalls++, { hits: [`r:${p["q"]}`] }));
  rt.registerTool({ name: "flaky" }, () => {
    toolCalls++;
    if (++flaky % 2 === 1) throw new Error("transient");
    return "ok";
  });
  rt.registerTool({ name: "shell" }, () => (toolCalls++, "ran"));
  rt.registerTool({ name: "slow" }, () => (toolCalls++, clock.advance(2_000), "slow"));
  rt.registerTool({ name: "card" }, () => {
    toolCalls++;
    throw new Error("declined");
  });
  rt.policies.loadFile(`deny_tool = ["shell"]\n[[rate_limit_tool]]\ntool = "flaky"\nmax_calls = 5\ninterval_secs = 60\n`, { source: "p.toml" });
  rt.setCapabilities({ denied_tools: ["card2"] });
  rt.state.set("balance", 10);

  const results = [];
  results.push(
    await rt.executeProposal({
      id: "p1",
      actions: [
        { id: "s1", type: "tool_call", tool: "search", parameters: { q: "car" }, expected_effects: { top: "$s1.output.hits.0" } },
        { id: "s2", type: "tool_call", tool: "search", parameters: { q: "car" } },
        { id: "s3", type: "tool_call", tool: "search", parameters: { q: "other" }, dependencies: ["s1"] },
        { id: "f1", type: "tool_call", tool: "flaky", failure_behavior: "retry", max_retries: 2 },
        { id: "sh", type: "tool_call", tool: "shell", parameters: { cmd: "rm -rf /" }, failure_behavior: "skip" },
        { id: "c2", type: "tool_call", tool: "card2", failure_behavior: "skip" },
        { id: "w", type: "state_write", parameters: { key: "note", value: "$s3.output" } },
      ],
    }),
  );
  rt.setBudget({ max_duration_ms: 1_000 });
  results.push(
    await rt.executeProposal({
      id: "p2",
      actions: [
        { id: "a", type: "tool_call", tool: "slow" },
        { id: "b", type: "tool_call", tool: "search", parameters: { q: "car" }, dependencies: ["a"] },
        { id: "c", type: "state_write", parameters: { key: "late", value: 1 }, dependencies: ["a"] },
      ],
    }),
  );
  rt.setBudget({ max_actions: 1 });
  results.push(await rt.executeProposal({ id: "p3", actions: [{ id: "x", type: "state_write", parameters: { key: "k", value: 1 } }, { id: "y", type: "state_write", parameters: { key: "k2", value: 1 } }] }));
  rt.setBudget(undefined);
  rt.setReplanCallback(() => ({ id: "p4b", actions: [{ id: "pay", type: "tool_call", tool: "search", parameters: { q: "car" } }] }));
  rt.setReplanConfig({ max_replans: 1 });
  results.push(
    await rt.executeProposal({
      id: "p4",
      actions: [
        { id: "hold", type: "state_write", parameters: { key: "balance", value: 0 } },
        { id: "pay", type: "tool_call", tool: "card", dependencies: ["hold"] },
      ],
    }),
  );
  return { rt, results, toolCalls: () => toolCalls };
}

test("replay reproduces a governed session exactly (policies, budget, cache, dedup, retries, replan) with zero tool calls", async () => {
  const { rt, results, toolCalls } = await governedSession();
  const statuses = results.map((r) => r.results.map((x) => `${x.action_id}:${x.status}`).join(" "));
  assert.deepEqual(statuses, [
    "s1:succeeded s2:succeeded s3:succeeded f1:succeeded sh:rejected c2:rejected w:succeeded",
    "a:succeeded b:skipped c:skipped",
    "x:rejected y:rejected",
    "pay:succeeded",
  ]);
  assert.ok(rt.events.query({ kinds: ["action_deduplicated"] }).length >= 2);
  const before = toolCalls();
  const events = rt.events.all();
  const out = await replay(events);
  assert.equal(toolCalls(), before, "replay calls no tool");
  assert.deepEqual(out.divergences, []);
  // p4 aborted, then its replan p4b ran: five recorded runs.
  assert.deepEqual(out.results.map((r) => r.proposal_id), ["p1", "p2", "p3", "p4", "p4b"]);
  assert.deepEqual(out.results[0], results[0]);
  assert.deepEqual(out.results[1], results[1]);
  assert.deepEqual(out.results[2], results[2]);
  assert.deepEqual(out.results[4], results[3]);
  assert.deepEqual(out.finalState, rt.state.snapshot());
});

test("replay round-trips through JSONL and a strict replay passes", async () => {
  const { rt, results } = await governedSession();
  const { EventLog } = await import("../../src/index.ts");
  const events = EventLog.fromJSONL(await rt.events.toJSONL()).all();
  const out = await replay(events, { strict: true });
  assert.deepEqual(out.results[0], results[0]);
});

test("a different proposal is reported precisely: which action, what differed", async () => {
  const { rt } = await governedSession();
  const out = await replay(rt.events.all(), {
    proposal: {
      id: "p1",
      actions: [
        { id: "s1", type: "tool_call", tool: "search", parameters: { q: "CAR" }, expected_effects: { top: "$s1.output.hits.0" } },
        { id: "s2", type: "tool_call", tool: "search", parameters: { q: "car" } },
        { id: "s3", type: "tool_call", tool: "search", parameters: { q: "other" }, dependencies: ["s1"] },
        { id: "f1", type: "tool_call", tool: "flaky", failure_behavior: "retry", max_retries: 2 },
        { id: "sh", type: "tool_call", tool: "shell", parameters: { cmd: "rm -rf /" }, failure_behavior: "skip" },
        { id: "c2", type: "tool_call", tool: "card2", failure_behavior: "skip" },
      ],
    },
  });
  const fields = out.divergences.map((d) => `${d.proposal_id}/${d.action_id ?? "-"}/${d.field}`);
  assert.ok(fields.includes("p1/s1/parameters"), fields.join(", "));
  assert.ok(fields.includes("p1/w/action"), fields.join(", "));
  assert.ok(fields.includes("p1/-/cost.actions_executed"), fields.join(", "));
  assert.ok(!fields.some((f) => f.startsWith("p2/")), "later proposals still replay cleanly");
});

test("other tools: a recorded call to a tool the replayer lacks is a divergence; strict mode throws", async () => {
  const { rt } = await governedSession();
  const out = await replay(rt.events.all(), { tools: ["search", "flaky", "slow", "card"] });
  assert.deepEqual(out.divergences, []);
  const out2 = await replay(rt.events.all(), { tools: ["search", "slow", "card"] });
  assert.deepEqual(
    out2.divergences.map((d) => [d.action_id, d.field, d.recorded]),
    [["f1", "tool", "flaky"], ["f1", "tool", "flaky"]],
  );
  await assert.rejects(replay(rt.events.all(), { tools: [], strict: true }), (e: unknown) => e instanceof ReplayDivergenceError && e.divergences.length > 0);
});

test("a tampered log is reported: changed output shows where it changed, a broken hash chain says where", async () => {
  const { rt } = await governedSession();
  const events = rt.events.all();
  const tampered: Event[] = structuredClone(events);
  const s3 = tampered.find((e) => e.kind === "action_succeeded" && e.proposal_id === "p1" && e.action_id === "s3")!;
  s3.data["output"] = { hits: ["forged"] };
  const out = await replay(tampered);
  assert.deepEqual(
    out.divergences.map((d) => [d.action_id, d.field]),
    [["w", "output"], ["w", "state_changes"]],
  );
  assert.match(out.divergences[0]!.message, /action w: output differs/);

  const chained = new Runtime({ clock: new ManualClock(0), random: new SeededRandom(2) });
  chained.events.enableChain();
  chained.registerTool({ name: "t" }, () => 1);
  await chained.executeProposal({ id: "q", actions: [{ id: "a", type: "tool_call", tool: "t" }] });
  const log = chained.events.all();
  assert.deepEqual((await replay(log)).divergences, []);
  const forged = structuredClone(log);
  const i = forged.findIndex((e) => e.kind === "action_succeeded");
  forged[i]!.data["output"] = 2;
  const res = await replay(forged);
  assert.equal(res.divergences[0]!.field, "hash_chain");
  assert.equal(res.divergences[0]!.recorded, i);
});
