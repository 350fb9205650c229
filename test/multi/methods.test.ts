import { test } from "node:test";
import assert from "node:assert/strict";
import { EventLog, ManualClock, RunAgentParamsSchema, SeededRandom, answerRunAgent, clientAgentRunner, multiMethods, type AgentRunner, type ClientCall } from "../../src/index.ts";

// The daemon's side: a fake callback channel that answers `multi.run_agent` like a client would.
function fakeClient(answer: (p: { spec: { name: string }; task: string; role: string }) => unknown) {
  const sent: Array<{ method: string; params: unknown }> = [];
  const call: ClientCall = async (method, params) => {
    sent.push({ method, params });
    const p = RunAgentParamsSchema.parse(params);
    return answer(p);
  };
  return { call, sent };
}

const wire = (name: string) => ({ name, system_prompt: `be ${name}` });

test("multi.* method table: params schemas apply wire defaults; handlers run over the client callback", async () => {
  const events = new EventLog();
  const { call, sent } = fakeClient((p) => ({ name: p.spec.name, answer: `${p.spec.name}:${p.task.length}`, turns: 1, tool_calls: 0, duration_ms: 2.5, error: null }));
  type Session = { id: string };
  const methods = multiMethods<Session>(() => ({ runner: clientAgentRunner(call), events, clock: new ManualClock(), random: new SeededRandom(1) }));
  assert.deepEqual(Object.keys(methods).sort(), ["multi.map_reduce", "multi.pipeline", "multi.supervisor", "multi.swarm", "multi.tournament", "multi.vote"]);

  const m = methods["multi.pipeline"];
  const params = m.params.parse({ stages: [wire("a"), wire("b")], task: "hello" });
  assert.deepEqual(params.stages[0], { name: "a", system_prompt: "be a", tools: [], max_turns: 10, metadata: {} });
  const res = (await m.handler(params, { id: "s1" })) as { stages: Array<{ name: string; answer: string }>; final_answer: string; completed: boolean };
  assert.equal(res.completed, true);
  assert.equal(res.final_answer, "b:3");
  assert.deepEqual(sent.map((x) => x.method), ["multi.run_agent", "multi.run_agent"]);
  const first = sent[0]!.params as Record<string, unknown>;
  assert.deepEqual(Object.keys(first).sort(), ["pattern", "role", "run_id", "spec", "task"]);
  assert.equal(first["pattern"], "pipeline");
  assert.equal(first["role"], "stage");
  assert.equal(events.query({ kinds: ["turn_completed"] }).length, 2);
});

test("multi.* params reject bad input with issues naming the field", () => {
  const methods = multiMethods(() => ({ runner: async () => null }));
  const bad = methods["multi.supervisor"].params.safeParse({ workers: [wire("w"), wire("w")], supervisor: wire("s"), task: "T", max_rounds: 0 });
  assert.equal(bad.success, false);
  const paths = bad.error!.issues.map((i) => i.path.join("."));
  assert.ok(paths.includes("workers"), paths.join());
  assert.ok(paths.includes("max_rounds"), paths.join());
  assert.equal(methods["multi.map_reduce"].params.safeParse({ mapper: wire("m"), reducer: wire("r"), task: "T" }).success, false);
  assert.equal(methods["multi.swarm"].params.parse({ agents: [wire("a")], task: "T", synthesizer: null }).mode, "parallel");
});

test("a client answering with the old {name, response, tool_calls: []} shape is rejected", async () => {
  const { call } = fakeClient((p) => ({ name: p.spec.name, response: "hi", tool_calls: [] }));
  const methods = multiMethods(() => ({ runner: clientAgentRunner(call) }));
  const m = methods["multi.vote"];
  await assert.rejects(m.handler(m.params.parse({ agents: [wire("a")], task: "T" }), undefined), /answer: missing field.*turns: missing field.*tool_calls/);
});

test("all six multi.* methods over a JSON channel, the client answering multi.run_agent with answerRunAgent", async () => {
  // Stands in for the daemon↔client socket: every frame is JSON-serialized, callbacks get cb-N ids.
  let n = 0;
  const frames: Array<{ id: string; method: string }> = [];
  const clientFn: AgentRunner = async (spec, task) => {
    const answer = spec.name === "boss" ? '{"done":true,"final_answer":"fin"}' : spec.name === "judge" ? "B" : `${spec.name}<${task.length}>`;
    return { name: spec.name, answer, turns: 1, tool_calls: 0, duration_ms: 1, error: null };
  };
  const call: ClientCall = async (method, params, { signal }) => {
    const frame = JSON.parse(JSON.stringify({ jsonrpc: "2.0", id: `cb-${++n}`, method, params: { ...params, request_id: `cb-${n}` } }));
    frames.push(frame);
    const reply = JSON.parse(JSON.stringify({ jsonrpc: "2.0", id: frame.id, result: await answerRunAgent(frame.params, clientFn, signal) }));
    return reply.result;
  };
  const methods = multiMethods(() => ({ runner: clientAgentRunner(call), clock: new ManualClock(), random: new SeededRandom(4) }));
  const run = async <K extends keyof typeof methods>(name: K, params: unknown) => {
    const m = methods[name];
    return JSON.parse(JSON.stringify(await m.handler(m.params.parse(params) as never, undefined))) as Record<string, unknown>;
  };
  const A = [wire("a"), wire("b"), wire("c")];
  const sw = await run("multi.swarm", { mode: "sequential", agents: A, task: "T" });
  assert.equal(sw["final_answer"], `c<${"T\n\nEarlier answers:\n[a] a<1>\n[b] b<28>".length}>`);
  const pl = await run("multi.pipeline", { stages: A, task: "T" });
  assert.equal(pl["final_answer"], "c<4>");
  const sv = await run("multi.supervisor", { workers: A, supervisor: wire("boss"), task: "T" });
  assert.equal(sv["final_answer"], "fin");
  const mr = await run("multi.map_reduce", { mapper: wire("m"), reducer: wire("r"), items: ["x", "y"], task: "T" });
  assert.deepEqual((mr["map_outputs"] as Array<{ answer: string }>).map((o) => o.answer), ["m<10>", "m<10>"]);
  const vt = await run("multi.vote", { agents: [wire("a"), wire("a2")], task: "T" });
  assert.equal(vt["winner_votes"], 1);
  const tn = await run("multi.tournament", { competitors: A, judge: wire("judge"), task: "T" });
  assert.equal(tn["winner_name"], "c");
  assert.ok(frames.every((f, i) => f.id === `cb-${i + 1}` && f.method === "multi.run_agent"));
  assert.equal(frames.length, 3 + 3 + 1 + 3 + 2 + 5);
});
