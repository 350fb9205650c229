import { test } from "node:test";
import assert from "node:assert/strict";
import { CarError, ManualClock, Scheduler, SeededRandom, type Task, type TaskExecutor } from "../../src/index.ts";
import { MapStorage, deferred, until } from "../multi/helpers.ts";

const T0 = Date.parse("2026-01-01T00:00:30Z");

function setup(start = T0) {
  const clock = new ManualClock(start);
  const storage = new MapStorage(clock);
  const runs: Array<{ task: string; at: string; occurrence: string }> = [];
  const executor: TaskExecutor = async (task, ctx) => {
    runs.push({ task: task.name, at: new Date(clock.now()).toISOString(), occurrence: ctx.occurrence_id });
    return `did ${task.prompt}`;
  };
  const scheduler = new Scheduler({ storage, clock, random: new SeededRandom(1), executor });
  return { clock, storage, runs, executor, scheduler };
}

test("createTask stores the task; list returns it; triggers and schedules are checked", async () => {
  const { scheduler } = setup();
  const t = await scheduler.createTask({ name: "digest", prompt: "summarize", system_prompt: "be brief" });
  assert.equal(t.trigger, "manual");
  assert.equal(t.status, "pending");
  assert.equal(t.created_at, "2026-01-01T00:00:30.000Z");
  assert.deepEqual(t.history, []);
  const every = await scheduler.createTask({ name: "poll", prompt: "p", trigger: "interval", schedule: "5m" });
  assert.equal(every.status, "scheduled");
  assert.deepEqual((await scheduler.list()).map((x) => x.name).sort(), ["digest", "poll"]);
  const reject = async (p: Parameters<Scheduler["createTask"]>[0], re: RegExp, code: string) =>
    assert.rejects(scheduler.createTask(p), (e: unknown) => e instanceof CarError && e.code === code && re.test(e.message));
  await reject({ name: "x", prompt: "p", trigger: "file_watch" }, /file_watch" is not supported/, "unsupported");
  await reject({ name: "x", prompt: "p", trigger: "hourly" }, /unknown trigger/, "invalid_input");
  await reject({ name: "x", prompt: "p", trigger: "interval" }, /needs a schedule/, "invalid_input");
  await reject({ name: "x", prompt: "p", trigger: "interval", schedule: "10ms" }, /shorter than the minimum/, "invalid_input");
  await reject({ name: "x", prompt: "p", trigger: "cron", schedule: "61 * * * *" }, /minute: 61/, "invalid_input");
  await reject({ name: "x", prompt: "p", trigger: "cron", schedule: "0 0 30 2 *" }, /never fires/, "invalid_input");
  await reject({ id: t.id, name: "x", prompt: "p" }, /already exists/, "conflict");
  await reject({ id: "../etc", name: "x", prompt: "p" }, /task id/, "invalid_input");
});

test("interval trigger fires at creation and every interval after, on the Clock", async () => {
  const { scheduler, runs } = setup();
  const t = await scheduler.createTask({ name: "poll", prompt: "check", trigger: "interval", schedule: "5m" });
  const execs = await scheduler.runTaskLoop(t.id, { maxIterations: 3 });
  assert.deepEqual(runs.map((r) => r.at), ["2026-01-01T00:00:30.000Z", "2026-01-01T00:05:30.000Z", "2026-01-01T00:10:30.000Z"]);
  assert.deepEqual(execs.map((e) => [e.scheduled_for, e.status, e.answer]), [
    ["2026-01-01T00:00:30.000Z", "completed", "did check"],
    ["2026-01-01T00:05:30.000Z", "completed", "did check"],
    ["2026-01-01T00:10:30.000Z", "completed", "did check"],
  ]);
  const stored = await scheduler.getTask(t.id);
  assert.deepEqual(stored!.history.map((e) => e.execution_id), execs.map((e) => e.execution_id));
  assert.equal(stored!.status, "scheduled");
});

test("cron trigger fires at the matching Clock minutes", async () => {
  const { scheduler, runs } = setup();
  const t = await scheduler.createTask({ name: "quarter", prompt: "q", trigger: "cron", schedule: "*/15 * * * *" });
  await scheduler.runTaskLoop(t.id, { maxIterations: 3 });
  assert.deepEqual(runs.map((r) => r.at), ["2026-01-01T00:15:00.000Z", "2026-01-01T00:30:00.000Z", "2026-01-01T00:45:00.000Z"]);

  const w = setup(Date.parse("2026-01-01T10:00:00Z")); // a Thursday
  const wt = await w.scheduler.createTask({ name: "standup", prompt: "s", trigger: "cron", schedule: "0 9 * * mon-fri" });
  const execs = await w.scheduler.runTaskLoop(wt.id, { maxIterations: 3 });
  assert.deepEqual(execs.map((e) => e.scheduled_for), ["2026-01-02T09:00:00.000Z", "2026-01-05T09:00:00.000Z", "2026-01-06T09:00:00.000Z"]);
  assert.deepEqual(w.runs.map((r) => r.occurrence), execs.map((e) => e.occurrence_id));
  assert.equal(execs[0]!.occurrence_id, `${wt.id}:cron:2026-01-02T09:00:00.000Z`);
});

test("a loop driven by advance(): nothing fires before the next occurrence", async () => {
  const clock = new ManualClock(T0, { autoAdvance: false });
  const runs: string[] = [];
  const s = new Scheduler({ storage: new MapStorage(clock), clock, random: new SeededRandom(2), executor: async () => (runs.push(new Date(clock.now()).toISOString()), "ok") });
  const t = await s.createTask({ name: "poll", prompt: "p", trigger: "interval", schedule: "1m" });
  const loop = s.runTaskLoop(t.id, { maxIterations: 2 });
  await until(() => runs.length === 1 && clock.pending() === 1);
  clock.advance(59_999);
  await new Promise((r) => setImmediate(r));
  assert.equal(runs.length, 1);
  clock.advance(1);
  assert.equal((await loop).length, 2);
  assert.deepEqual(runs, ["2026-01-01T00:00:30.000Z", "2026-01-01T00:01:30.000Z"]);
});

test("once runs a single time; asking again returns the same execution", async () => {
  const { scheduler, runs } = setup();
  const t = await scheduler.createTask({ name: "boot", prompt: "b", trigger: "once" });
  const loop = await scheduler.runTaskLoop(t.id, { maxIterations: 5 });
  assert.equal(loop.length, 1);
  const again = await scheduler.runTask(t.id);
  assert.equal(again.execution_id, loop[0]!.execution_id);
  assert.deepEqual(await scheduler.runTaskLoop(t.id), loop);
  assert.equal(runs.length, 1);
  assert.equal((await scheduler.getTask(t.id))!.status, "completed");
});

test("manual runs are never deduplicated", async () => {
  const { scheduler, runs } = setup();
  const t = await scheduler.createTask({ name: "m", prompt: "p" });
  const a = await scheduler.runTask(t.id);
  const b = await scheduler.runTask(t.id);
  assert.notEqual(a.occurrence_id, b.occurrence_id);
  assert.equal(a.scheduled_for, null);
  assert.equal(runs.length, 2);
  assert.equal((await scheduler.getTask(t.id))!.history.length, 2);
});

test("occurrence dedup survives a restart: a new Scheduler over the same Storage returns the earlier execution", async () => {
  const { scheduler, storage, clock, runs } = setup();
  const t = await scheduler.createTask({ name: "poll", prompt: "p", trigger: "interval", schedule: "5m" });
  clock.advance(7 * 60_000); // inside the second slot (00:05:30 – 00:10:30)
  const first = await scheduler.runTask(t.id);
  assert.equal(first.scheduled_for, "2026-01-01T00:05:30.000Z");

  const calls2: string[] = [];
  const restarted = new Scheduler({ storage, clock, random: new SeededRandom(99), executor: async (task) => (calls2.push(task.id), "second") });
  const posted: Task = JSON.parse(JSON.stringify(t)); // a client posting the task object back
  const again = await restarted.runTask(posted);
  assert.deepEqual(again, first);
  assert.deepEqual(calls2, []);
  // The loop after a restart waits for the next occurrence instead of re-running this one.
  const loop = await restarted.runTaskLoop(t.id, { maxIterations: 1 });
  assert.equal(loop[0]!.scheduled_for, "2026-01-01T00:10:30.000Z");
  assert.equal(calls2.length, 1);
  assert.equal(runs.length, 1);
  assert.deepEqual((await restarted.getTask(t.id))!.history.map((e) => e.answer), ["did p", "second"]);
});

test("two schedulers over one Storage never both run an occurrence", async () => {
  const clock = new ManualClock(T0);
  const storage = new MapStorage(clock);
  const gate = deferred();
  let calls = 0;
  const slow: TaskExecutor = async () => {
    calls++;
    await gate.promise;
    return "slow";
  };
  const a = new Scheduler({ storage, clock, random: new SeededRandom(1), executor: slow, owner: "A" });
  const b = new Scheduler({ storage, clock, random: new SeededRandom(2), executor: slow, owner: "B" });
  const t = await a.createTask({ name: "x", prompt: "p", trigger: "interval", schedule: "1h" });
  const ra = a.runTask(t.id);
  await until(() => calls === 1);
  const rb = await b.runTask(t.id);
  assert.equal(rb.status, "running");
  gate.resolve();
  const done = await ra;
  assert.equal(done.status, "completed");
  assert.equal(rb.execution_id, done.execution_id);
  assert.deepEqual(await b.runTask(t.id), done);
  assert.equal(calls, 1);
  const both = await Promise.all([a.runTask(t.id), b.runTask(t.id)]);
  assert.equal(both[0].execution_id, both[1].execution_id);
  assert.equal(calls, 1);
});

test("a lease left by a dead scheduler expires and another takes the occurrence over", async () => {
  const clock = new ManualClock(T0, { autoAdvance: false });
  const storage = new MapStorage(clock);
  const dead = new AbortController();
  const a = new Scheduler({ storage, clock, random: new SeededRandom(1), leaseMs: 60_000, executor: (_t, ctx) => new Promise((_r, rej) => ctx.signal.addEventListener("abort", () => rej(new Error("x")))) });
  const t = await a.createTask({ name: "x", prompt: "p", trigger: "interval", schedule: "1h" });
  const stuck = a.runTask(t.id, { signal: dead.signal });
  const b = new Scheduler({ storage, clock, random: new SeededRandom(2), leaseMs: 60_000, executor: async () => "b ran" });
  await until(() => storage.map.size >= 2);
  assert.equal((await b.runTask(t.id)).status, "running");
  clock.advance(60_001);
  const took = await b.runTask(t.id);
  assert.equal(took.answer, "b ran");
  dead.abort();
  await stuck;
});

test("cancel aborts the running execution, ends the loop and disables the task", async () => {
  const { scheduler, clock } = setup();
  const seen: AbortSignal[] = [];
  const waiting: TaskExecutor = (_t, ctx) =>
    new Promise((_r, reject) => {
      seen.push(ctx.signal);
      ctx.signal.addEventListener("abort", () => reject(new Error("stopped")));
    });
  const t = await scheduler.createTask({ name: "long", prompt: "p", trigger: "interval", schedule: "5m" });
  const loop = scheduler.runTaskLoop(t.id, { executor: waiting, maxIterations: 5 });
  await until(() => seen.length === 1);
  assert.equal((await scheduler.getTask(t.id))!.status, "running");
  assert.equal(await scheduler.cancel(t.id), true);
  const execs = await loop;
  assert.equal(seen[0]!.aborted, true);
  assert.equal(execs.length, 1);
  assert.equal(execs[0]!.status, "failed");
  assert.match(execs[0]!.error!, /^canceled: task .* cancelled$/);
  assert.equal((await scheduler.getTask(t.id))!.status, "disabled");
  clock.advance(10 * 60_000);
  await assert.rejects(scheduler.runTask(t.id), /is disabled/);
  assert.equal(await scheduler.cancel("nope"), false);
});

test("a caller's signal stops a loop that is waiting for the next occurrence", async () => {
  const clock = new ManualClock(T0, { autoAdvance: false });
  const s = new Scheduler({ storage: new MapStorage(clock), clock, random: new SeededRandom(3), executor: async () => "ok" });
  const t = await s.createTask({ name: "x", prompt: "p", trigger: "interval", schedule: "1h" });
  const ctl = new AbortController();
  const loop = s.runTaskLoop(t.id, { signal: ctl.signal, maxIterations: 10 });
  await until(() => clock.pending() === 1);
  ctl.abort();
  assert.equal((await loop).length, 1);
});

test("executor failures are recorded as failed executions", async () => {
  const { scheduler } = setup();
  const t = await scheduler.createTask({ name: "x", prompt: "p" });
  const e1 = await scheduler.runTask(t.id, { executor: async () => Promise.reject(new Error("model offline")) });
  assert.deepEqual([e1.status, e1.error, e1.answer], ["failed", "model offline", ""]);
  const e2 = await scheduler.runTask(t.id, { executor: (async () => 42) as unknown as TaskExecutor });
  assert.match(e2.error!, /executor returned number, expected a string answer/);
  assert.equal((await scheduler.getTask(t.id))!.status, "failed");
});

test("history is capped at maxHistory; unreadable records fail closed", async () => {
  const clock = new ManualClock(T0);
  const storage = new MapStorage(clock);
  const s = new Scheduler({ storage, clock, random: new SeededRandom(4), executor: async () => "ok", maxHistory: 2 });
  const t = await s.createTask({ name: "x", prompt: "p" });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    ids.push((await s.runTask(t.id)).execution_id);
    clock.advance(1000);
  }
  assert.deepEqual((await s.getTask(t.id))!.history.map((e) => e.execution_id), ids.slice(1));
  await storage.set(`scheduler/tasks/${t.id}`, { v: 2, task: {} });
  await assert.rejects(s.getTask(t.id), (e: unknown) => e instanceof CarError && e.code === "corrupted");
});

test("without an executor runTask says so", async () => {
  const clock = new ManualClock(T0);
  const s = new Scheduler({ storage: new MapStorage(clock), clock });
  const t = await s.createTask({ name: "x", prompt: "p" });
  await assert.rejects(s.runTask(t.id), /no task executor/);
  await assert.rejects(s.runTask("missing"), (e: unknown) => e instanceof CarError && e.code === "not_found");
});
