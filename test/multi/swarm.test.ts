import { test } from "node:test";
import assert from "node:assert/strict";
import { EventLog, ManualClock, SeededRandom, swarm } from "../../src/index.ts";
import { agent, scripted } from "./helpers.ts";

const base = () => ({ clock: new ManualClock(), random: new SeededRandom(3) });

test("parallel swarm: every agent gets the bare task; turns are recorded in the event log", async () => {
  const events = new EventLog();
  const { runner, calls } = scripted((s) => `answer of ${s.name}`);
  const res = await swarm({ mode: "parallel", agents: [agent("a"), agent("b"), agent("c")], task: "T" }, { ...base(), runner, events });
  assert.deepEqual(calls.map((c) => [c.agent, c.task, c.role, c.pattern]), [["a", "T", "agent", "swarm"], ["b", "T", "agent", "swarm"], ["c", "T", "agent", "swarm"]]);
  assert.deepEqual(res.outputs.map((o) => o.answer), ["answer of a", "answer of b", "answer of c"]);
  assert.equal(res.synthesis, null);
  assert.equal(res.final_answer, "[a] answer of a\n[b] answer of b\n[c] answer of c");
  assert.equal(res.usage.agents_started, 3);
  const started = events.query({ kinds: ["worker_started"] }).reverse();
  const done = events.query({ kinds: ["turn_completed"] }).reverse();
  assert.deepEqual(started.map((e) => [e.data["pattern"], e.data["agent"], e.run_id]), [["swarm", "a", res.run_id], ["swarm", "b", res.run_id], ["swarm", "c", res.run_id]]);
  assert.deepEqual(done.map((e) => [e.data["agent"], e.data["answer"], e.data["error"]]), [["a", "answer of a", null], ["b", "answer of b", null], ["c", "answer of c", null]]);
  assert.equal(events.query({ kinds: ["run_completed"] })[0]!.data["status"], "completed");
});

test("sequential swarm: each agent sees every earlier answer", async () => {
  const { runner, calls } = scripted((s) => `${s.name}-says`);
  const res = await swarm({ mode: "sequential", agents: [agent("a"), agent("b"), agent("c")], task: "T" }, { ...base(), runner });
  assert.deepEqual(calls.map((c) => c.task), [
    "T",
    "T\n\nEarlier answers:\n[a] a-says",
    "T\n\nEarlier answers:\n[a] a-says\n[b] b-says",
  ]);
  assert.equal(res.final_answer, "c-says");
});

test("sequential swarm: an agent that throws becomes an output with error and the next still runs", async () => {
  const { runner, calls } = scripted((s) => {
    if (s.name === "b") throw new Error("model down");
    return `${s.name}!`;
  });
  const res = await swarm({ mode: "sequential", agents: [agent("a"), agent("b"), agent("c")], task: "T" }, { ...base(), runner });
  assert.equal(res.outputs[1]!.error, "model down");
  assert.equal(res.outputs[1]!.answer, "");
  assert.equal(calls[2]!.task, "T\n\nEarlier answers:\n[a] a!\n[b] (failed: model down)");
  assert.equal(res.final_answer, "c!");
});

test("debate: the second round shows each agent its own answer and the others'", async () => {
  const { runner, calls } = scripted((s, task) => (task === "T" ? `${s.name}1` : `${s.name}2`));
  const res = await swarm({ mode: "debate", agents: [agent("a"), agent("b")], task: "T" }, { ...base(), runner });
  assert.equal(calls.length, 4);
  const second = calls.slice(2).sort((x, y) => x.agent.localeCompare(y.agent));
  assert.equal(second[0]!.task, "T\n\nYour previous answer:\na1\n\nOther agents answered:\n[b] b1\n\nConsider their arguments and give your final answer.");
  assert.equal(second[1]!.task, "T\n\nYour previous answer:\nb1\n\nOther agents answered:\n[a] a1\n\nConsider their arguments and give your final answer.");
  assert.deepEqual(res.rounds!.map((r) => r.map((o) => o.answer)), [["a1", "b1"], ["a2", "b2"]]);
  assert.deepEqual(res.outputs.map((o) => o.answer), ["a2", "b2"]);
});

test("hybrid: the first half answers the bare task, the rest see all earlier answers", async () => {
  const { runner, calls } = scripted((s) => s.name.toUpperCase());
  const res = await swarm({ mode: "hybrid", agents: [agent("a"), agent("b"), agent("c"), agent("d")], task: "T" }, { ...base(), runner });
  const by = Object.fromEntries(calls.map((c) => [c.agent, c.task]));
  assert.equal(by["a"], "T");
  assert.equal(by["b"], "T");
  assert.equal(by["c"], "T\n\nEarlier answers:\n[a] A\n[b] B");
  assert.equal(by["d"], "T\n\nEarlier answers:\n[a] A\n[b] B\n[c] C");
  assert.equal(res.outputs.length, 4);
  assert.equal(res.final_answer, "D");
});

test("synthesizer merges every answer into the final answer", async () => {
  const { runner, calls } = scripted((s, task) => (s.name === "synth" ? `merged(${task.split("\n").slice(-2).join("|")})` : s.name));
  const res = await swarm({ agents: [agent("x"), agent("y")], task: "T", synthesizer: agent("synth") }, { ...base(), runner });
  assert.equal(calls[2]!.role, "synthesizer");
  assert.equal(calls[2]!.task, "T\n\nCombine these answers into one final answer:\n[x] x\n[y] y");
  assert.equal(res.synthesis!.answer, "merged([x] x|[y] y)");
  assert.equal(res.final_answer, res.synthesis!.answer);
  assert.equal(res.mode, "parallel");
});

test("bad params are a ValidationError naming the field", async () => {
  const { runner } = scripted(() => "x");
  await assert.rejects(swarm({ mode: "chaos" as "parallel", agents: [agent("a")], task: "T" }, { runner }), /invalid multi.swarm params: mode/);
  await assert.rejects(swarm({ agents: [], task: "T" }, { runner }), /agents/);
});
