import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, RunAgentParamsSchema, Scheduler, SeededRandom, clientAgentRunner, schedulerMethods, type ClientCall, type Task, type TaskExecution } from "../../src/index.ts";
import { MapStorage } from "../multi/helpers.ts";

test("scheduler.* method table: create, run (dedup), run_loop, list, cancel, with the client as runner", async () => {
  const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
  const scheduler = new Scheduler({ storage: new MapStorage(clock), clock, random: new SeededRandom(8) });
  const sent: unknown[] = [];
  const call: ClientCall = async (_m, params) => {
    sent.push(params);
    const p = RunAgentParamsSchema.parse(params);
    return { name: p.spec.name, answer: `ran ${p.task} as ${p.spec.system_prompt}`, turns: 1, tool_calls: 0, duration_ms: 1, error: null };
  };
  const m = schedulerMethods<{ conn: number }>(() => ({ scheduler, runner: clientAgentRunner(call) }));
  const ctx = { conn: 1 };

  const task = (await m["scheduler.create"].handler(m["scheduler.create"].params.parse({ name: "poll", prompt: "check", trigger: "interval", schedule: "10m", system_prompt: "sys" }), ctx)) as Task;
  assert.equal(task.trigger, "interval");

  const runParams = m["scheduler.run"].params.parse({ task: JSON.parse(JSON.stringify(task)) });
  const e1 = (await m["scheduler.run"].handler(runParams, ctx)) as TaskExecution;
  assert.equal(e1.answer, "ran check as sys");
  const e2 = (await m["scheduler.run"].handler(runParams, ctx)) as TaskExecution;
  assert.deepEqual(e2, e1);
  assert.equal(sent.length, 1);
  assert.deepEqual((sent[0] as { pattern: string; role: string }).pattern, "scheduler");

  const loop = (await m["scheduler.run_loop"].handler(m["scheduler.run_loop"].params.parse({ task_id: task.id, max_iterations: 2 }), ctx)) as TaskExecution[];
  assert.deepEqual(loop.map((e) => e.scheduled_for), ["2026-01-01T00:10:00.000Z", "2026-01-01T00:20:00.000Z"]);

  const listed = (await m["scheduler.list"].handler(m["scheduler.list"].params.parse({}), ctx)) as { tasks: Task[]; count: number };
  assert.equal(listed.count, 1);
  assert.equal(listed.tasks[0]!.history.length, 3);

  assert.deepEqual(await m["scheduler.cancel"].handler(m["scheduler.cancel"].params.parse({ task_id: task.id }), ctx), { task_id: task.id, cancelled: true });
  assert.equal(((await scheduler.getTask(task.id)) as Task).status, "disabled");
});

test("scheduler.* params: exactly one of task / task_id; max_iterations bounded", () => {
  const m = schedulerMethods(() => ({ scheduler: undefined as unknown as Scheduler }));
  assert.equal(m["scheduler.run"].params.safeParse({}).success, false);
  assert.equal(m["scheduler.run"].params.safeParse({ task_id: "a", task: { id: "a", name: "n", prompt: "p", trigger: "manual" } }).success, false);
  assert.equal(m["scheduler.run_loop"].params.safeParse({ task_id: "a", max_iterations: 0 }).success, false);
  assert.equal(m["scheduler.run_loop"].params.parse({ task_id: "a" }).max_iterations, 10);
  assert.equal(m["scheduler.create"].params.parse({ name: "n", prompt: "p" }).trigger, "manual");
  assert.equal(m["scheduler.cancel"].params.safeParse({}).success, false);
});

test("a posted task with an unreadable created_at is refused", async () => {
  const clock = new ManualClock();
  const s = new Scheduler({ storage: new MapStorage(clock), clock, executor: async () => "ok" });
  await assert.rejects(s.runTask({ id: "t1", name: "n", prompt: "p", trigger: "interval", schedule: "5m", created_at: "yesterday" }), /invalid task: created_at/);
  const e = await s.runTask({ id: "t1", name: "n", prompt: "p", trigger: "interval", schedule: "5m", created_at: "2025-12-31T23:58:00Z" });
  assert.equal(e.scheduled_for, "2025-12-31T23:58:00.000Z");
});
