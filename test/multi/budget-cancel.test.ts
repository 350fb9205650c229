import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CanceledError, CarError, EventLog, ManualClock, SeededRandom, ValidationError, mapReduce, pipeline, registerAgentRunner, swarm, vote,
  type AgentRunner,
} from "../../src/index.ts";
import { agent, deferred, scripted, until } from "./helpers.ts";

const base = () => ({ clock: new ManualClock(), random: new SeededRandom(9) });

test("max_agents: once reached no new agent starts; denied agents appear as outputs with error", async () => {
  const events = new EventLog();
  const { runner, calls } = scripted((s) => s.name);
  const res = await swarm({ mode: "sequential", agents: ["a", "b", "c", "d"].map((n) => agent(n)), task: "T", budget: { max_agents: 2 } }, { ...base(), runner, events });
  assert.deepEqual(calls.map((c) => c.agent), ["a", "b"]);
  assert.deepEqual(res.outputs.map((o) => [o.name, o.error]), [
    ["a", null], ["b", null], ["c", "budget exceeded: max_agents 2 reached"], ["d", "budget exceeded: max_agents 2 reached"],
  ]);
  assert.deepEqual(res.usage, { agents_started: 2, agents_denied: 2, input_tokens: 0, output_tokens: 0, total_tokens: 0, cost_usd: 0 });
  const denied = events.query({ kinds: ["gate_rejected"] }).reverse();
  assert.deepEqual(denied.map((e) => [e.data["agent"], e.data["gate"], e.data["pattern"]]), [["c", "budget", "swarm"], ["d", "budget", "swarm"]]);
  assert.equal(res.final_answer, "b");
});

test("token and cost budgets count what agents report; a denied synthesizer falls back", async () => {
  const tok = scripted((s) => s.name, { tokens: { input_tokens: 40, output_tokens: 20 } });
  const res = await swarm(
    { mode: "sequential", agents: ["a", "b", "c"].map((n) => agent(n)), task: "T", synthesizer: agent("s"), budget: { max_total_tokens: 100 } },
    { ...base(), runner: tok.runner },
  );
  // After a: 60 < 100, b starts; after b: 120 ≥ 100, c and the synthesizer are denied.
  assert.deepEqual(tok.calls.map((c) => c.agent), ["a", "b"]);
  assert.match(res.outputs[2]!.error!, /max_total_tokens 100 reached \(120 used\)/);
  assert.match(res.synthesis!.error!, /max_total_tokens/);
  assert.equal(res.final_answer, "b");
  assert.equal(res.usage.input_tokens, 80);

  const cost = scripted(() => "x", { cost_usd: 0.5, tokens: 10 });
  const p = await pipeline({ stages: ["s1", "s2", "s3"].map((n) => agent(n)), task: "T", budget: { max_cost_usd: 1 } }, { ...base(), runner: cost.runner });
  assert.equal(cost.calls.length, 2);
  assert.equal(p.completed, false);
  assert.match(p.stages[2]!.error!, /max_cost_usd 1 reached/);
  assert.equal(p.usage.total_tokens, 20);
});

test("budget in map_reduce: denied mappers show an error, the reducer is denied too and the answer falls back", async () => {
  const { runner, calls } = scripted((_s, task) => task.slice(-1));
  const res = await mapReduce({ mapper: agent("m"), reducer: agent("r"), items: ["a", "b", "c"], task: "T", budget: { max_agents: 2 } }, { ...base(), runner });
  assert.equal(calls.length, 2);
  assert.deepEqual(res.map_outputs.map((o) => o.error === null), [true, true, false]);
  assert.match(res.reduce_output.error!, /max_agents/);
  assert.equal(res.final_answer, "[0] a: a\n[1] b: b");
});

test("a malformed AgentOutput is a ValidationError naming the missing field, and stops the others", async () => {
  const signals: AbortSignal[] = [];
  const runner: AgentRunner = async (spec, _task, ctx) => {
    if (spec.name === "bad") return { name: "bad", answer: "hi", tool_calls: [], duration_ms: 1, error: null };
    signals.push(ctx.signal);
    await new Promise((_r, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
  };
  const events = new EventLog();
  const err = await swarm({ agents: [agent("slow1"), agent("bad"), agent("slow2")], task: "T" }, { ...base(), runner, events }).catch((e: unknown) => e);
  assert.ok(err instanceof ValidationError, String(err));
  assert.equal(err.code, "invalid_input");
  assert.match(err.message, /AgentOutput from agent "bad"/);
  assert.deepEqual(err.issues.map((i) => [i.path, i.message]).sort(), [["tool_calls", "Invalid input: expected number, received array"], ["turns", "missing field"]]);
  assert.equal(signals.length, 2);
  assert.ok(signals.every((s) => s.aborted));
  assert.equal(events.query({ kinds: ["run_completed"] })[0]!.data["status"], "failed");

  const r2: AgentRunner = async () => "just a string";
  await assert.rejects(vote({ agents: [agent("a")], task: "T" }, { runner: r2 }), /AgentOutput from agent "a": \(root\)/);
});

test("cancel reaches every running agent's signal; the pattern rejects with CanceledError", async () => {
  const started: Array<{ name: string; signal: AbortSignal }> = [];
  const runner: AgentRunner = (spec, _task, ctx) =>
    new Promise((_resolve, reject) => {
      started.push({ name: spec.name, signal: ctx.signal });
      ctx.signal.addEventListener("abort", () => reject(new Error("stopped")));
    });
  const ctl = new AbortController();
  const events = new EventLog();
  const run = swarm({ agents: [agent("a"), agent("b"), agent("c")], task: "T" }, { ...base(), runner, events, signal: ctl.signal });
  await until(() => started.length === 3);
  ctl.abort("user hit stop");
  const err = await run.catch((e: unknown) => e);
  assert.ok(err instanceof CanceledError);
  assert.equal(err.message, "[car:multi] canceled: user hit stop");
  assert.deepEqual(started.map((s) => [s.name, s.signal.aborted]), [["a", true], ["b", true], ["c", true]]);
  assert.equal(events.query({ kinds: ["run_completed"] })[0]!.data["status"], "canceled");
});

test("cancel does not wait on a runner that ignores its signal, and no later agent starts", async () => {
  const gate = deferred<void>();
  const { runner, calls } = scripted(async () => {
    await gate.promise; // never released before the cancel
    return "late";
  });
  const ctl = new AbortController();
  const run = pipeline({ stages: [agent("a"), agent("b")], task: "T" }, { ...base(), runner, signal: ctl.signal });
  await until(() => calls.length === 1);
  ctl.abort();
  await assert.rejects(run, CanceledError);
  gate.resolve();
  await new Promise((r) => setImmediate(r));
  assert.equal(calls.length, 1);

  const pre = new AbortController();
  pre.abort("already");
  await assert.rejects(swarm({ agents: [agent("a")], task: "T" }, { runner, signal: pre.signal }), /canceled: already/);
  assert.equal(calls.length, 1);
});

test("registerAgentRunner sets the default runner; without any runner a CarError says so", async () => {
  await assert.rejects(vote({ agents: [agent("a")], task: "T" }), (e: unknown) => e instanceof CarError && /no agent runner/.test(e.message));
  const { runner, calls } = scripted(() => "yes");
  registerAgentRunner(runner);
  try {
    const res = await vote({ agents: [agent("a")], task: "T" });
    assert.equal(res.winner_answer, "yes");
    assert.equal(calls.length, 1);
  } finally {
    registerAgentRunner(undefined);
  }
});
