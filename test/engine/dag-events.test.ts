import { test } from "node:test";
import assert from "node:assert/strict";
import { EventLog, ManualClock, Runtime, SeededRandom, buildDag, checkPrecondition, normalizeProposal, replay, StateStore, PreconditionSchema } from "../../src/index.ts";

const deferred = () => {
  let resolve!: (v: unknown) => void;
  const promise = new Promise((r) => (resolve = r));
  return { promise, resolve };
};

test("every precondition operator", () => {
  const s = new StateStore({ n: 5, s: "hello world", arr: [1, { a: 2 }], nil: null, str5: "5" });
  const cases: Array<[string, string, unknown, boolean]> = [
    ["n", "eq", 5, true], ["n", "eq", 6, false], ["arr", "eq", [1, { a: 2 }], true],
    ["n", "neq", 6, true], ["n", "neq", 5, false],
    ["n", "gt", 4, true], ["n", "gt", 5, false], ["str5", "gt", 4, false],
    ["n", "lt", 6, true], ["n", "lt", 5, false],
    ["n", "gte", 5, true], ["n", "gte", 6, false],
    ["n", "lte", 5, true], ["n", "lte", 4, false], ["missing", "lte", 4, false],
    ["nil", "exists", null, true], ["missing", "exists", null, false],
    ["missing", "not_exists", null, true], ["n", "not_exists", null, false],
    ["s", "contains", "lo wo", true], ["s", "contains", "xyz", false], ["arr", "contains", { a: 2 }, true], ["arr", "contains", 3, false], ["n", "contains", 5, false],
    ["n", "frobnicate", 5, false],
    ["missing", "eq", null, true],
  ];
  for (const [key, operator, value, want] of cases) {
    assert.equal(checkPrecondition(PreconditionSchema.parse({ key, operator, value }), s), want, `${key} ${operator} ${JSON.stringify(value)}`);
  }
  assert.equal(PreconditionSchema.parse({ key: "k" }).operator, "eq");
});

test("preconditions gate actions inside a proposal", async () => {
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(1) });
  rt.state.set("balance", 100);
  rt.registerTool({ name: "pay" }, () => "paid");
  const ok = await rt.executeProposal({ actions: [{ id: "p", type: "tool_call", tool: "pay", preconditions: [{ key: "balance", operator: "gte", value: 50 }] }] });
  assert.equal(ok.results[0]!.status, "succeeded");
  const no = await rt.executeProposal({ actions: [{ id: "p", type: "tool_call", tool: "pay", preconditions: [{ key: "balance", operator: "gt", value: 500 }] }] });
  assert.equal(no.results[0]!.status, "failed");
  assert.equal(no.results[0]!.error, "precondition failed: balance gt 500");
  assert.equal(no.cost.tool_calls, 0);
});

test("DAG levels come from explicit dependencies and state keys", () => {
  const p = normalizeProposal(
    {
      actions: [
        { id: "w1", type: "state_write", parameters: { key: "k", value: 1 } },
        { id: "t", type: "tool_call", tool: "x" },
        { id: "r", type: "state_read", parameters: { key: "k" } },
        { id: "w2", type: "state_write", parameters: { key: "k", value: 2 } },
        { id: "u", type: "tool_call", tool: "x", state_dependencies: ["k"] },
        { id: "e", type: "tool_call", tool: "x", expected_effects: { z: 1 }, dependencies: ["t"] },
        { id: "z", type: "tool_call", tool: "x", state_dependencies: ["z"] },
      ],
    },
    new ManualClock(),
    new SeededRandom(1),
  );
  assert.deepEqual(buildDag(p.actions).levels, [["w1", "t"], ["r", "w2", "e"], ["u", "z"]]);
});

test("independent actions of a level run concurrently (event order shows it)", async () => {
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(1) });
  const gates = { a: deferred(), b: deferred() };
  const started: string[] = [];
  rt.registerTool({ name: "gate" }, async (p) => {
    const id = p["id"] as "a" | "b";
    started.push(id);
    // Both must have started before either can finish: only possible if they run concurrently.
    if (started.length === 2) {
      gates.a.resolve(1);
      gates.b.resolve(1);
    }
    await gates[id].promise;
    return id;
  });
  const res = await rt.executeProposal({ actions: [{ id: "a", type: "tool_call", tool: "gate", parameters: { id: "a" } }, { id: "b", type: "tool_call", tool: "gate", parameters: { id: "b" } }] });
  assert.deepEqual(res.results.map((r) => r.status), ["succeeded", "succeeded"]);
  const seq = rt.events.all().filter((e) => e.kind === "action_executing" || e.kind === "action_succeeded").map((e) => `${e.kind}:${e.action_id}`);
  assert.deepEqual(seq, ["action_executing:a", "action_executing:b", "action_succeeded:a", "action_succeeded:b"]);
});

test("hash chain verifies and detects tampering", async () => {
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(1) });
  rt.events.enableChain();
  rt.registerTool({ name: "t" }, () => 1);
  await rt.executeProposal({ actions: [{ id: "a", type: "tool_call", tool: "t" }, { id: "b", type: "state_write", parameters: { key: "k", value: 2 } }] });
  const n = rt.events.count();
  assert.deepEqual(await rt.events.verifyChain(), { verified: n });
  const lines = (await rt.events.toJSONL()).trim().split("\n");
  const evil = JSON.parse(lines[3]!);
  evil.data = { ...evil.data, forged: true };
  lines[3] = JSON.stringify(evil);
  assert.deepEqual(await EventLog.fromJSONL(lines.join("\n")).verifyChain(), { tampered_at: 3 });
  const dropped = lines.filter((_, i) => i !== 2);
  assert.deepEqual(await EventLog.fromJSONL(dropped.join("\n")).verifyChain(), { tampered_at: 2 });
  assert.deepEqual(await EventLog.fromJSONL(lines.slice(0, 3).join("\n")).verifyChain(), { verified: 3 });
});

test("a malformed JSONL event log names the line", () => {
  assert.throws(() => EventLog.fromJSONL('{"kind":"proposal_received","timestamp":"2026-01-01T00:00:00.000Z","data":{}}\nnot json'), /line 2/);
  assert.throws(() => EventLog.fromJSONL('{"kind":"bogus","timestamp":"x"}'), /line 1/);
});

test("event queries filter by kind, action, proposal, time, limit — most recent first", async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1), { autoAdvance: true });
  const rt = new Runtime({ clock, random: new SeededRandom(1) });
  rt.registerTool({ name: "t" }, () => 1);
  const r1 = await rt.executeProposal({ id: "p1", actions: [{ id: "a", type: "tool_call", tool: "t" }] });
  clock.advance(60_000);
  await rt.executeProposal({ id: "p2", actions: [{ id: "a", type: "tool_call", tool: "t" }, { id: "b", type: "tool_call", tool: "t" }] });
  assert.equal(r1.proposal_id, "p1");
  assert.equal(rt.events.query({ kinds: ["action_succeeded"] }).length, 3);
  assert.equal(rt.events.query({ kinds: ["action_succeeded"], proposal_id: "p2" }).length, 2);
  assert.equal(rt.events.query({ action_id: "b" }).every((e) => e.action_id === "b"), true);
  assert.deepEqual(rt.events.query({ kinds: ["proposal_received"] }).map((e) => e.proposal_id), ["p2", "p1"]);
  assert.deepEqual(rt.events.query({ kinds: ["proposal_received"], until: "2026-01-01T00:00:30.000Z" }).map((e) => e.proposal_id), ["p1"]);
  assert.deepEqual(rt.events.query({ kinds: ["proposal_received"], since: "2026-01-01T00:00:30.000Z" }).map((e) => e.proposal_id), ["p2"]);
  assert.equal(rt.events.query({ limit: 2 }).length, 2);
});

async function scenario() {
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(99) });
  rt.events.enableChain();
  let n = 0;
  rt.registerTool({ name: "count" }, (_p, call) => {
    n++;
    if (call.attempt === 1 && n === 1) throw new Error("transient");
    return { n };
  });
  rt.registerTool({ name: "echo" }, (p) => p);
  rt.state.set("start", true);
  const result = await rt.executeProposal({
    actions: [
      { type: "tool_call", tool: "count", failure_behavior: "retry", expected_effects: { counted: "$a.output.n" }, id: "a" },
      { type: "tool_call", tool: "echo", parameters: { v: "$a.output" } },
      { type: "state_write", parameters: { key: "k", value: [1, 2] } },
    ],
  });
  const aborted = await rt.executeProposal({ actions: [{ id: "x", type: "state_write", parameters: { key: "k", value: 3 } }, { id: "y", type: "assertion", parameters: { key: "k", value: 4 }, dependencies: ["x"] }] });
  return { rt, result, aborted, log: await rt.events.toJSONL() };
}

test("determinism: the same proposal and tool outputs give a byte-identical event log and result", async () => {
  const one = await scenario();
  const two = await scenario();
  assert.equal(one.log, two.log);
  assert.equal(JSON.stringify(one.result), JSON.stringify(two.result));
  assert.equal(JSON.stringify(one.aborted), JSON.stringify(two.aborted));
});

test("replay reproduces results and final state from the log without calling any tool", async () => {
  const { rt, result, aborted } = await scenario();
  const out = await replay(rt.events.all());
  const strip = (r: typeof result) => r.results.map(({ duration_ms: _d, timestamp: _t, ...x }) => x);
  assert.equal(out.results.length, 2);
  assert.deepEqual(strip(out.results[0]!), strip(result));
  assert.deepEqual(strip(out.results[1]!), strip(aborted));
  assert.deepEqual(out.results[0]!.cost.retries, 1);
  assert.deepEqual(out.finalState, rt.state.snapshot());
});
