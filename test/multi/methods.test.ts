import { test } from "node:test";
import assert from "node:assert/strict";
import { EventLog, ManualClock, RunAgentParamsSchema, SeededRandom, clientAgentRunner, multiMethods, type ClientCall } from "../../src/index.ts";

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
