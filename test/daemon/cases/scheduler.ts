// scheduler.* over the daemon: tasks run on the asking client, stored under CAR_HOME, occurrence dedup across a restart.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { startDaemon, type Daemon, type RuntimeName } from "../harness.ts";
import { expectError } from "../helpers.ts";
import { agentClient, out, untilAborted, waitFor } from "./multi.ts";

/** Tool callback timeout of these daemons (s); the timeout case waits this long. */
const TOOL_TIMEOUT_S = "1";

export function schedulerCases(rt: RuntimeName): void {
  test("scheduler.create/run/run_loop/list/cancel; a serviced occurrence is not run again, also after a daemon restart", async () => {
    const home = mkdtempSync(join(tmpdir(), `car-sched-${rt}-`));
    const daemons: Daemon[] = [];
    const start = async () => {
      const d = await startDaemon(rt, ["--car-home", home, "--tool-timeout", TOOL_TIMEOUT_S]);
      daemons.push(d);
      return d;
    };
    try {
      const d1 = await start();
      const first = agentClient(d1, (c) => out(c.name, `did ${c.task}`), { carHome: home });
      let digestExec;
      let digestTask;
      try {
        const c = first.client;
        digestTask = await c.schedulerCreate({ id: "digest", name: "digest", prompt: "summarize", trigger: "interval", schedule: "1h", system_prompt: "be brief" });
        assert.deepEqual([digestTask.id, digestTask.status, digestTask.trigger, digestTask.schedule, digestTask.history], ["digest", "scheduled", "interval", "1h", []]);
        expectError(await rawError(c.schedulerCreate({ id: "digest", name: "again", prompt: "x" })), -32603);

        digestExec = await c.schedulerRun({ task_id: "digest" });
        assert.deepEqual([digestExec.status, digestExec.answer, digestExec.occurrence_id], ["completed", "did summarize", `digest:interval:${digestTask.created_at}`]);
        assert.deepEqual(first.calls, [{ name: "digest", task: "summarize", pattern: "scheduler", role: "task", run_id: digestExec.occurrence_id }]);
        // The same occurrence again: the earlier execution, nothing runs.
        assert.deepEqual(await c.schedulerRun({ task_id: "digest" }), digestExec);
        assert.equal(first.calls.length, 1);

        // Manual runs are never deduplicated; run_loop runs them back to back.
        await c.schedulerCreate({ id: "adhoc", name: "adhoc", prompt: "now" });
        const loop = await c.schedulerRunLoop({ task_id: "adhoc", max_iterations: 2 });
        assert.equal(loop.length, 2);
        assert.notEqual(loop[0]!.execution_id, loop[1]!.execution_id);
        assert.equal(first.calls.length, 3);
      } finally {
        first.client.close();
      }
      assert.equal(await d1.stop("SIGTERM"), 0);

      // A new daemon over the same CAR_HOME: the tasks, their history and the dedup are still there.
      const d2 = await start();
      const second = agentClient(d2, (c, signal) => (c.name === "slow" ? untilAborted(signal) : out(c.name, "ran again")), { carHome: home });
      try {
        const c = second.client;
        assert.deepEqual(await c.schedulerRun({ task_id: "digest" }), digestExec);
        assert.deepEqual(await c.schedulerRun({ task: digestTask }), digestExec);
        assert.equal(second.calls.length, 0);
        const listed = await c.schedulerList();
        assert.deepEqual(listed.tasks.map((t) => [t.id, t.history.length]), [["adhoc", 2], ["digest", 1]]);
        assert.equal(listed.count, 2);

        // Cancelling a task stops its running execution on the client (multi.cancel) and records it failed.
        await c.schedulerCreate({ id: "slow", name: "slow", prompt: "wait" });
        const running = c.schedulerRun({ task_id: "slow" });
        await waitFor(() => second.calls.some((x) => x.name === "slow"), "the slow task to start");
        assert.deepEqual(await c.schedulerCancel({ task_id: "slow" }), { task_id: "slow", cancelled: true });
        const canceled = await running;
        assert.equal(canceled.status, "failed");
        assert.match(canceled.error!, /^canceled: /);
        await waitFor(() => second.cancels.length === 1, "multi.cancel");
        assert.equal(second.cancels[0]!.agent, "slow");
        assert.equal((await c.schedulerList()).tasks.find((t) => t.id === "slow")!.status, "disabled");
        expectError(await rawError(c.schedulerRun({ task_id: "slow" })), -32603);
        assert.deepEqual(await c.schedulerCancel({ task_id: "nope" }), { task_id: "nope", cancelled: false });
        expectError(await rawError(c.schedulerRun({ task_id: "digest", task: digestTask } as never)), -32602);
      } finally {
        second.client.close();
      }

      // HTTP sessions cannot answer multi.run_agent: scheduler.run is WebSocket-only, scheduler.list is not.
      const token = readFileSync(join(home, "auth-token"), "utf8").trim();
      const rpc = (method: string, params: unknown) =>
        fetch(`${d2.http}/rpc`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) }).then((r) => r.json() as Promise<Record<string, unknown>>);
      assert.equal(((await rpc("scheduler.list", {}))["result"] as { count: number }).count, 3);
      expectError(await rpc("scheduler.run", { task_id: "adhoc" }), -32601, 1);
    } finally {
      for (const d of daemons) await d.dispose();
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("the tool callback timeout applies to multi.run_agent: the agent fails with a timeout and the client gets multi.cancel", async () => {
    const d = await startDaemon(rt, ["--no-auth", "--tool-timeout", TOOL_TIMEOUT_S]);
    const { client, cancels } = agentClient(d, (c, signal) => (c.name === "mute" ? untilAborted(signal) : out(c.name, "ok")));
    try {
      const r = await client.multiSwarm({ agents: [{ name: "mute", system_prompt: "" }, { name: "talk", system_prompt: "" }], task: "T" });
      assert.match(r.outputs[0]!.error!, /timeout/);
      assert.equal(r.outputs[1]!.answer, "ok");
      await waitFor(() => cancels.length === 1, "multi.cancel");
      assert.equal(cancels[0]!.agent, "mute");
      assert.match(cancels[0]!.reason, /timeout/);
    } finally {
      client.close();
      await d.dispose();
    }
  });
}

/** The JSON-RPC error a CarClient call rejected with, as a response message (for expectError). */
async function rawError(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    const err = e as { rpcCode?: number; message: string; data?: unknown };
    if (err.rpcCode === undefined) throw e;
    return { jsonrpc: "2.0", error: { code: err.rpcCode, message: err.message, data: err.data } };
  }
  assert.fail("expected the call to fail");
}
