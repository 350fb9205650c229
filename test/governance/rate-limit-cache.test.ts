import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, Runtime, SeededRandom } from "../../src/index.ts";

const call = (id: string, tool: string, parameters: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ id, type: "tool_call" as const, tool, parameters, ...extra });

test("token bucket: capacity max_calls, starts full, refills max_calls/interval per second; extra calls wait (backpressure)", async () => {
  const clock = new ManualClock(0);
  const rt = new Runtime({ clock, random: new SeededRandom(1) });
  const at: Array<[string, number]> = [];
  rt.registerTool({ name: "api", rate_limit: { max_calls: 2, interval_secs: 1 } }, (_p, c) => void at.push([c.action_id, clock.now()]));
  const res = await rt.executeProposal({ actions: [call("a", "api"), call("b", "api"), call("c", "api"), call("d", "api")] });
  assert.deepEqual(res.results.map((r) => r.status), ["succeeded", "succeeded", "succeeded", "succeeded"]);
  assert.deepEqual(at, [["a", 0], ["b", 0], ["c", 500], ["d", 1000]]);
  assert.equal(res.cost.tool_calls, 4);
  // After a quiet period the bucket is full again (never above capacity).
  clock.advance(10_000);
  const t0 = clock.now();
  at.length = 0;
  await rt.executeProposal({ actions: [call("e", "api"), call("f", "api"), call("g", "api")] });
  assert.deepEqual(at.map(([id, t]) => [id, t - t0]), [["e", 0], ["f", 0], ["g", 500]]);
});

test("a rate-limit wait honours cancellation: the caller's abort ends it, no tool call, no timer left", async () => {
  const clock = new ManualClock(0, { autoAdvance: false });
  const rt = new Runtime({ clock, random: new SeededRandom(1) });
  let calls = 0;
  rt.registerTool({ name: "api", rate_limit: { max_calls: 1, interval_secs: 100 } }, () => void calls++);
  const ctl = new AbortController();
  const pending = rt.executeProposal({ actions: [call("a", "api"), call("b", "api", {}, { dependencies: ["a"] })] }, { signal: ctl.signal });
  for (let i = 0; i < 100 && clock.pending() === 0; i++) await new Promise((r) => setImmediate(r));
  assert.equal(clock.pending(), 1, "b is waiting for a token");
  assert.equal(calls, 1);
  ctl.abort(new Error("user stop"));
  const res = await pending;
  assert.equal(calls, 1);
  assert.equal(res.results[1]!.status, "failed");
  assert.match(res.results[1]!.error!, /^canceled: /);
  assert.equal(clock.pending(), 0);
});

test("a rate-limit wait counts against the action timeout", async () => {
  const clock = new ManualClock(0, { autoAdvance: false });
  const rt = new Runtime({ clock, random: new SeededRandom(1) });
  rt.registerTool({ name: "api", rate_limit: { max_calls: 1, interval_secs: 100 } }, () => "ok");
  const pending = rt.executeProposal({ actions: [call("a", "api"), call("b", "api", {}, { dependencies: ["a"], timeout_ms: 50 })] });
  for (let i = 0; i < 100 && clock.pending() < 2; i++) await new Promise((r) => setImmediate(r));
  clock.advance(50);
  const res = await pending;
  assert.equal(res.results[1]!.status, "failed");
  assert.match(res.results[1]!.error!, /timeout/);
});

test("rate_limit max_calls 0 fails the call with a clear error instead of waiting forever", async () => {
  const rt = new Runtime({ clock: new ManualClock(0), random: new SeededRandom(1) });
  rt.registerTool({ name: "off", rate_limit: { max_calls: 0, interval_secs: 1 } }, () => "never");
  const res = await rt.executeProposal({ actions: [call("a", "off")] });
  assert.equal(res.results[0]!.status, "failed");
  assert.match(res.results[0]!.error!, /max_calls 0/);
});

test("result cache: hit within the TTL (canonical params), miss after it; hits emit action_deduplicated and cost no tool call", async () => {
  const clock = new ManualClock(0);
  const rt = new Runtime({ clock, random: new SeededRandom(1) });
  let calls = 0;
  rt.registerTool({ name: "lookup", cache_ttl_secs: 60 }, (p) => ({ n: ++calls, q: p["q"] }));
  const first = await rt.executeProposal({ actions: [call("a", "lookup", { q: { x: 1, y: 2 } })] });
  assert.deepEqual(first.results[0]!.output, { n: 1, q: { x: 1, y: 2 } });
  clock.advance(59_000);
  const hit = await rt.executeProposal({ actions: [call("b", "lookup", { q: { y: 2, x: 1 } })] });
  assert.deepEqual(hit.results[0]!.output, { n: 1, q: { x: 1, y: 2 } });
  assert.equal(hit.cost.tool_calls, 0);
  assert.equal(calls, 1);
  const dedup = rt.events.query({ kinds: ["action_deduplicated"] });
  assert.equal(dedup.length, 1);
  assert.equal(dedup[0]!.action_id, "b");
  assert.deepEqual({ ...dedup[0]!.data, cache_key: "-" }, { attempt: 1, tool: "lookup", cache_key: "-", hit: "cache", origin: { proposal_id: first.proposal_id, action_id: "a" }, age_ms: 59_000 });
  const other = await rt.executeProposal({ actions: [call("c", "lookup", { q: 3 })] });
  assert.equal(other.cost.tool_calls, 1);
  clock.advance(1_001);
  const miss = await rt.executeProposal({ actions: [call("d", "lookup", { q: { x: 1, y: 2 } })] });
  assert.deepEqual(miss.results[0]!.output, { n: 3, q: { x: 1, y: 2 } });
  assert.equal(miss.cost.tool_calls, 1);
});

test("idempotent actions dedup within a proposal: a later identical call is a cache hit, a concurrent one joins the call in flight", async () => {
  const rt = new Runtime({ clock: new ManualClock(0), random: new SeededRandom(1) });
  let calls = 0;
  rt.registerTool({ name: "fetch" }, async (p) => {
    calls++;
    await Promise.resolve();
    return `page ${p["u"]}`;
  });
  const res = await rt.executeProposal({
    actions: [
      call("a", "fetch", { u: 1 }, { idempotent: true }),
      call("b", "fetch", { u: 1 }, { idempotent: true }),
      call("c", "fetch", { u: 1 }, { idempotent: true, dependencies: ["a"] }),
      call("d", "fetch", { u: 1 }, { dependencies: ["a"] }),
    ],
  });
  assert.deepEqual(res.results.map((r) => r.output), ["page 1", "page 1", "page 1", "page 1"]);
  assert.equal(calls, 2, "only a and the non-idempotent d dispatched");
  assert.equal(res.cost.tool_calls, 2);
  assert.deepEqual(rt.events.query({ kinds: ["action_deduplicated"] }).reverse().map((e) => [e.action_id, e.data["hit"]]), [["b", "in_flight"], ["c", "cache"]]);
});

test("failures are not cached; non-idempotent tools are never cached", async () => {
  const rt = new Runtime({ clock: new ManualClock(0), random: new SeededRandom(1) });
  let n = 0;
  rt.registerTool({ name: "flaky", idempotent: true }, () => {
    if (++n === 1) throw new Error("first fails");
    return "ok";
  });
  const r1 = await rt.executeProposal({ actions: [call("a", "flaky", {}, { failure_behavior: "skip" })] });
  assert.equal(r1.results[0]!.status, "failed");
  const r2 = await rt.executeProposal({ actions: [call("a", "flaky")] });
  assert.equal(r2.results[0]!.output, "ok");
  assert.equal(n, 2);
  let m = 0;
  rt.registerTool({ name: "plain" }, () => ++m);
  await rt.executeProposal({ actions: [call("a", "plain"), call("b", "plain", {}, { dependencies: ["a"] })] });
  assert.equal(m, 2);
});

test("cache hits cost no rate-limit token", async () => {
  const clock = new ManualClock(0);
  const rt = new Runtime({ clock, random: new SeededRandom(1) });
  const at: number[] = [];
  rt.registerTool({ name: "api", idempotent: true, rate_limit: { max_calls: 1, interval_secs: 10 } }, (p) => (at.push(clock.now()), p["x"]));
  await rt.executeProposal({ actions: [call("a", "api", { x: 1 }), call("b", "api", { x: 1 }, { dependencies: ["a"] }), call("c", "api", { x: 2 }, { dependencies: ["b"] })] });
  assert.deepEqual(at, [0, 10_000]);
});
