import { test } from "node:test";
import assert from "node:assert/strict";
import { mapReduce, pipeline, readVerdict, supervisor, tournament, vote, ManualClock, SeededRandom } from "../../src/index.ts";
import { agent, scripted } from "./helpers.ts";

const base = () => ({ clock: new ManualClock(), random: new SeededRandom(5) });

test("pipeline: each stage gets the previous stage's answer", async () => {
  const { runner, calls } = scripted((s, task) => `${s.name}(${task})`);
  const res = await pipeline({ stages: [agent("draft"), agent("edit"), agent("polish")], task: "T" }, { ...base(), runner });
  assert.deepEqual(calls.map((c) => c.task), ["T", "draft(T)", "edit(draft(T))"]);
  assert.equal(res.completed, true);
  assert.equal(res.final_answer, "polish(edit(draft(T)))");
  assert.deepEqual(res.stages.map((s) => [s.name, s.error]), [["draft", null], ["edit", null], ["polish", null]]);
});

test("pipeline: a failing stage ends the run; its error is in stages[]", async () => {
  const { runner, calls } = scripted((s) => {
    if (s.name === "edit") throw new Error("edit broke");
    return "ok";
  });
  const res = await pipeline({ stages: [agent("draft"), agent("edit"), agent("polish")], task: "T" }, { ...base(), runner });
  assert.equal(calls.length, 2);
  assert.equal(res.completed, false);
  assert.equal(res.final_answer, null);
  assert.deepEqual(res.stages.map((s) => [s.name, s.error]), [["draft", null], ["edit", "edit broke"]]);
});

test("supervisor: delegates to named workers, sees their results, then finishes", async () => {
  let round = 0;
  const { runner, calls } = scripted((s, task) => {
    if (s.name === "boss") {
      round++;
      if (round === 1) return JSON.stringify({ assignments: [{ worker: "coder", task: "write it" }, { worker: "tester", task: "test it" }, { worker: "ghost", task: "?" }] });
      return "```json\n" + JSON.stringify({ done: true, final_answer: "shipped" }) + "\n```";
    }
    return `${s.name} did: ${task}`;
  });
  const res = await supervisor({ workers: [agent("coder"), agent("tester")], supervisor: agent("boss"), task: "build" }, { ...base(), runner });
  assert.equal(res.stop_reason, "done");
  assert.equal(res.final_answer, "shipped");
  assert.equal(res.rounds.length, 2);
  assert.deepEqual(res.rounds[0]!.outputs.map((o) => [o.name, o.answer, o.error]), [
    ["coder", "coder did: write it", null],
    ["tester", "tester did: test it", null],
    ["ghost", "", 'unknown worker "ghost"'],
  ]);
  const second = calls.filter((c) => c.agent === "boss")[1]!.task;
  assert.match(second, /Workers: coder, tester/);
  assert.match(second, /\[round 1\] \[coder\] coder did: write it\n\[round 1\] \[tester\] tester did: test it/);
  assert.deepEqual(calls.map((c) => c.role), ["supervisor", "worker", "worker", "supervisor"]);
});

test("supervisor: stops after max_rounds when it never finishes; prose ends it at once", async () => {
  const { runner, calls } = scripted((s) => (s.name === "boss" ? JSON.stringify({ assignments: [{ worker: "w", task: "again" }] }) : "w-out"));
  const res = await supervisor({ workers: [agent("w")], supervisor: agent("boss"), task: "T", max_rounds: 2 }, { ...base(), runner });
  assert.equal(res.stop_reason, "max_rounds");
  assert.equal(calls.filter((c) => c.agent === "boss").length, 2);
  assert.equal(res.final_answer, "[w] w-out");

  const prose = scripted(() => "The answer is 42.");
  const r2 = await supervisor({ workers: [agent("w")], supervisor: agent("boss"), task: "T" }, { ...base(), runner: prose.runner });
  assert.equal(r2.stop_reason, "done");
  assert.equal(r2.final_answer, "The answer is 42.");
  assert.equal(prose.calls.length, 1);
});

test("map_reduce: the mapper runs once per item, concurrently; the reducer once over results in item order", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const { runner, calls } = scripted(async (s, task) => {
    if (s.name === "reducer") return `reduced:${task.split("\n").slice(-4).join("|")}`;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    // Items finish in reverse order, so result order must come from item order, not completion.
    await new Promise((r) => setTimeout(r, task.endsWith("a") ? 3 : 0));
    inFlight--;
    return task.slice(-1).toUpperCase();
  });
  const res = await mapReduce({ mapper: agent("mapper"), reducer: agent("reducer"), items: ["a", "b", "c", "d"], task: "Upper {{item}}" }, { ...base(), runner });
  const mapperCalls = calls.filter((c) => c.agent === "mapper");
  assert.deepEqual(mapperCalls.map((c) => c.task).sort(), ["Upper a", "Upper b", "Upper c", "Upper d"]);
  assert.equal(maxInFlight, 4);
  assert.equal(calls.filter((c) => c.agent === "reducer").length, 1);
  assert.deepEqual(res.map_outputs.map((o) => o.answer), ["A", "B", "C", "D"]);
  assert.equal(res.final_answer, "reduced:[0] a: A|[1] b: B|[2] c: C|[3] d: D");
  assert.equal(calls.at(-1)!.role, "reducer");
});

test("map_reduce: max_concurrency bounds the mappers running at once; no {{item}} appends the item", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const { runner, calls } = scripted(async (s) => {
    if (s.name === "r") return "done";
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, 0));
    inFlight--;
    return "m";
  });
  await mapReduce({ mapper: agent("m"), reducer: agent("r"), items: ["1", "2", "3", "4", "5"], task: "T", max_concurrency: 2 }, { ...base(), runner });
  assert.equal(maxInFlight, 2);
  assert.equal(calls[0]!.task, "T\n\nItem: 1");
});

test("vote: the majority answer wins, compared loosely", async () => {
  const answers: Record<string, string> = { a: "Paris", b: "paris.", c: "London", d: "  PARIS " };
  const { runner } = scripted((s) => answers[s.name]!);
  const res = await vote({ agents: ["a", "b", "c", "d"].map((n) => agent(n)), task: "capital of France?" }, { ...base(), runner });
  assert.equal(res.winner_answer, "Paris");
  assert.equal(res.winner_votes, 3);
  assert.equal(res.majority, true);
  assert.deepEqual(res.tally, [{ answer: "Paris", count: 3, agents: ["a", "b", "d"] }, { answer: "London", count: 1, agents: ["c"] }]);
});

test("vote: a tie goes to the answer given first and is no majority; a synthesizer overrides", async () => {
  const answers: Record<string, string> = { a: "x", b: "y" };
  const { runner } = scripted((s) => answers[s.name] ?? "synth-pick");
  const res = await vote({ agents: [agent("a"), agent("b")], task: "T" }, { ...base(), runner });
  assert.equal(res.winner_answer, "x");
  assert.equal(res.majority, false);
  const s = await vote({ agents: [agent("a"), agent("b")], task: "T", synthesizer: agent("judge") }, { ...base(), runner });
  assert.equal(s.winner_answer, "synth-pick");
});

test("tournament: 3 competitors, the first seed gets a bye, a fresh judge per match", async () => {
  const strength: Record<string, number> = { ann: 2, bob: 3, cy: 1 };
  const { runner, calls } = scripted((s, task) => {
    if (s.name !== "judge") return `${s.name}:${strength[s.name]}`;
    const [, a, b] = /Candidate A \((\w+)\)[\s\S]*Candidate B \((\w+)\)/.exec(task)!;
    return strength[a!]! >= strength[b!]! ? "A" : "B";
  });
  const res = await tournament({ competitors: [agent("ann"), agent("bob"), agent("cy")], judge: agent("judge"), task: "T" }, { ...base(), runner });
  assert.deepEqual(res.matches.map((m) => [m.round, m.a, m.b, m.winner, m.bye]), [
    [1, "ann", null, "ann", true],
    [1, "bob", "cy", "bob", false],
    [2, "ann", "bob", "bob", false],
  ]);
  assert.equal(calls.filter((c) => c.role === "judge").length, 2);
  assert.equal(res.matches[0]!.judge, null);
  assert.equal(res.matches[0]!.reason, "bye");
  assert.equal(res.winner_name, "bob");
  assert.equal(res.winner_answer, "bob:3");
  assert.deepEqual(res.ranking, ["bob", "ann", "cy"]);
  assert.deepEqual(res.candidates.map((c) => c.name), ["ann", "bob", "cy"]);
});

test("tournament: 5 competitors get 3 byes in round 1 only; a failed competitor loses without a judge", async () => {
  const { runner, calls } = scripted((s) => {
    if (s.name === "c2") throw new Error("crashed");
    return s.name === "judge" ? "B" : s.name;
  });
  const res = await tournament({ competitors: ["c1", "c2", "c3", "c4", "c5"].map((n) => agent(n)), judge: agent("judge"), task: "T" }, { ...base(), runner });
  assert.deepEqual(res.matches.map((m) => [m.round, m.a, m.b, m.winner]), [
    [1, "c1", null, "c1"], [1, "c2", null, "c2"], [1, "c3", null, "c3"], [1, "c4", "c5", "c5"],
    [2, "c1", "c2", "c1"], [2, "c3", "c5", "c5"],
    [3, "c1", "c5", "c5"],
  ]);
  assert.equal(res.matches[4]!.reason, "opponent failed");
  assert.equal(res.matches[4]!.judge, null);
  assert.deepEqual(res.ranking, ["c5", "c1", "c3", "c4", "c2"]);
  assert.equal(calls.filter((c) => c.role === "judge").length, 3);
  assert.equal(res.winner_name, "c5");
});

test("readVerdict reads letters, JSON and names", () => {
  assert.equal(readVerdict("A", "x", "y"), "A");
  assert.equal(readVerdict("**B** is better", "x", "y"), "B");
  assert.equal(readVerdict('{"winner":"B"}', "x", "y"), "B");
  assert.equal(readVerdict("I prefer y", "x", "y"), "B");
  assert.equal(readVerdict("Both are fine", "x", "y"), undefined);
});
