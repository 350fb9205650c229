import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, ProposalRejectedError, Runtime, SeededRandom, TerminalToolError, ValidationError } from "../../src/index.ts";

function runtime() {
  return new Runtime({ clock: new ManualClock(), random: new SeededRandom(7) });
}

test("abort rolls state back, marks earlier successes rolled_back and skips the rest", async () => {
  const rt = runtime();
  rt.state.set("balance", 10);
  rt.registerTool({ name: "boom" }, () => {
    throw new Error("exploded");
  });
  const calls: string[] = [];
  rt.registerTool({ name: "after" }, () => void calls.push("after"));
  const res = await rt.executeProposal({
    actions: [
      { id: "w1", type: "state_write", parameters: { key: "balance", value: 5 } },
      { id: "w2", type: "state_write", parameters: { key: "note", value: "x" }, dependencies: ["w1"] },
      { id: "t1", type: "tool_call", tool: "boom", dependencies: ["w2"] },
      { id: "t2", type: "tool_call", tool: "after", dependencies: ["t1"] },
    ],
  });
  const by = Object.fromEntries(res.results.map((r) => [r.action_id, r]));
  assert.equal(by.w1!.status, "succeeded");
  assert.equal(by.w1!.rolled_back, true);
  assert.equal(by.w2!.rolled_back, true);
  assert.equal(by.t1!.status, "failed");
  assert.equal(by.t1!.error, "exploded");
  assert.equal(by.t1!.rolled_back, undefined);
  assert.equal(by.t2!.status, "skipped");
  assert.deepEqual(calls, []);
  assert.equal(rt.state.get("balance"), 10);
  assert.equal(rt.state.exists("note"), false);
  assert.deepEqual(res.cost, { tool_calls: 1, actions_executed: 3, actions_rejected: 0, actions_skipped: 1, total_duration_ms: 0, retries: 0 });
  assert.equal(rt.events.query({ kinds: ["state_rollback"] }).length, 1);
});

test("retry: attempts counted, attempt passed to the tool, backoff doubles on the injected clock", async () => {
  const clock = new ManualClock();
  const rt = new Runtime({ clock, random: new SeededRandom(1) });
  const seen: Array<{ attempt: number; at: number }> = [];
  rt.registerTool({ name: "flaky" }, (_p, call) => {
    seen.push({ attempt: call.attempt, at: clock.now() });
    if (call.attempt < 3) throw new Error(`fail ${call.attempt}`);
    return { ok: call.attempt };
  });
  const res = await rt.executeProposal({ actions: [{ id: "a", type: "tool_call", tool: "flaky", failure_behavior: "retry", max_retries: 3 }] });
  assert.equal(res.results[0]!.status, "succeeded");
  assert.deepEqual(res.results[0]!.output, { ok: 3 });
  assert.deepEqual(seen.map((s) => s.attempt), [1, 2, 3]);
  assert.deepEqual([seen[1]!.at - seen[0]!.at, seen[2]!.at - seen[1]!.at], [100, 200]);
  assert.equal(res.cost.retries, 2);
  assert.equal(res.cost.tool_calls, 3);
  const retrying = rt.events.query({ kinds: ["action_retrying"] }).reverse();
  assert.deepEqual(retrying.map((e) => e.data["delay_ms"]), [100, 200]);
});

test("retry exhausted fails the action and aborts", async () => {
  const rt = runtime();
  let n = 0;
  rt.registerTool({ name: "never" }, () => {
    n++;
    throw new Error("nope");
  });
  const res = await rt.executeProposal({ actions: [{ id: "a", type: "tool_call", tool: "never", failure_behavior: "retry", max_retries: 2 }] });
  assert.equal(n, 3);
  assert.equal(res.results[0]!.status, "failed");
  assert.equal(res.cost.retries, 2);
});

test("skip: a failed action does not abort; its dependents are skipped, independent actions run", async () => {
  const rt = runtime();
  rt.registerTool({ name: "bad" }, () => {
    throw new Error("bad");
  });
  rt.registerTool({ name: "good" }, () => "fine");
  const res = await rt.executeProposal({
    actions: [
      { id: "a", type: "tool_call", tool: "bad", failure_behavior: "skip" },
      { id: "b", type: "tool_call", tool: "good", dependencies: ["a"] },
      { id: "c", type: "tool_call", tool: "good" },
      { id: "d", type: "state_write", parameters: { key: "k", value: 1 }, preconditions: [{ key: "missing", operator: "exists" }], failure_behavior: "skip" },
    ],
  });
  assert.deepEqual(res.results.map((r) => r.status), ["failed", "skipped", "succeeded", "skipped"]);
  assert.match(res.results[1]!.error!, /dependency a failed/);
  assert.match(res.results[3]!.error!, /precondition failed/);
  assert.equal(res.results[2]!.rolled_back, undefined);
  assert.equal(rt.state.exists("k"), false);
});

test("timeout: the tool observes its signal firing and the action fails with a timeout", async () => {
  const rt = new Runtime({ random: new SeededRandom(2) }); // real clock: the timer must really fire
  let observed: unknown;
  rt.registerTool({ name: "slow" }, (_p, call) =>
    new Promise((_resolve, reject) => {
      call.signal.addEventListener("abort", () => {
        observed = call.signal.reason;
        reject(call.signal.reason);
      });
    }),
  );
  const res = await rt.executeProposal({ actions: [{ id: "s", type: "tool_call", tool: "slow", timeout_ms: 20 }] });
  assert.equal(res.results[0]!.status, "failed");
  assert.match(res.results[0]!.error!, /^timeout: action s exceeded 20 ms/);
  assert.ok(observed instanceof Error && /timeout/.test(observed.message));
  const failed = rt.events.query({ kinds: ["action_failed"] })[0]!;
  assert.equal(failed.data["error_class"], "timeout");
});

test("a tool that ignores its signal cannot hang the proposal past its timeout", async () => {
  const rt = new Runtime();
  rt.registerTool({ name: "stuck" }, () => new Promise(() => {}));
  const res = await rt.executeProposal({ actions: [{ id: "s", type: "tool_call", tool: "stuck", timeout_ms: 10 }] });
  assert.equal(res.results[0]!.status, "failed");
});

test("cancel in the middle: running tool sees the signal, later levels are skipped with canceled:, state rolls back", async () => {
  const rt = runtime();
  const ctl = new AbortController();
  let sawAbort = false;
  rt.registerTool({ name: "first" }, () => "done");
  rt.registerTool({ name: "wait" }, (_p, call) =>
    new Promise((_res, rej) => {
      call.signal.addEventListener("abort", () => {
        sawAbort = true;
        rej(call.signal.reason);
      });
      ctl.abort("user pressed stop");
    }),
  );
  rt.registerTool({ name: "later" }, () => assert.fail("must not run"));
  const res = await rt.executeProposal(
    {
      actions: [
        { id: "w", type: "state_write", parameters: { key: "x", value: 1 } },
        { id: "a", type: "tool_call", tool: "first", dependencies: ["w"] },
        { id: "b", type: "tool_call", tool: "wait", dependencies: ["a"] },
        { id: "c", type: "tool_call", tool: "later", dependencies: ["b"] },
        { id: "d", type: "tool_call", tool: "later", dependencies: ["b"] },
      ],
    },
    { signal: ctl.signal },
  );
  assert.ok(sawAbort);
  const by = Object.fromEntries(res.results.map((r) => [r.action_id, r]));
  assert.equal(by.b!.status, "failed");
  assert.match(by.b!.error!, /^canceled: user pressed stop/);
  for (const id of ["c", "d"]) {
    assert.equal(by[id]!.status, "skipped");
    assert.match(by[id]!.error!, /^canceled:/);
  }
  assert.equal(by.a!.rolled_back, true);
  assert.equal(rt.state.exists("x"), false);
  assert.equal(res.cost.actions_skipped, 2);
});

test("$a1.output references resolve whole values, nested paths and interpolation", async () => {
  const rt = runtime();
  rt.registerTool({ name: "make" }, () => ({ x: { y: [10, 20] }, name: "car" }));
  const got: unknown[] = [];
  rt.registerTool({ name: "use" }, (p) => {
    got.push(p);
    return null;
  });
  const res = await rt.executeProposal({
    actions: [
      { id: "a1", type: "tool_call", tool: "make" },
      { id: "a2", type: "tool_call", tool: "use", parameters: { whole: "$a1.output", deep: "$a1.output.x.y.1", text: "hi $a1.output.name!", list: ["$a1.output.x"] } },
    ],
  });
  assert.equal(res.results[1]!.status, "succeeded");
  assert.deepEqual(got[0], { whole: { x: { y: [10, 20] }, name: "car" }, deep: 20, text: "hi car!", list: [{ y: [10, 20] }] });
});

test("a reference to a missing field fails the action with a clear error", async () => {
  const rt = runtime();
  rt.registerTool({ name: "make" }, () => ({ a: 1 }));
  rt.registerTool({ name: "use" }, () => null);
  const res = await rt.executeProposal({ actions: [{ id: "a1", type: "tool_call", tool: "make" }, { id: "a2", type: "tool_call", tool: "use", parameters: { v: "$a1.output.b" } }] });
  assert.equal(res.results[1]!.status, "failed");
  assert.match(res.results[1]!.error!, /unresolved reference \$a1\.output\.b/);
});

for (const [name, actions, reason] of [
  ["cycle", [{ id: "a", type: "tool_call", tool: "t", dependencies: ["b"] }, { id: "b", type: "tool_call", tool: "t", dependencies: ["a"] }], "cycle"],
  ["self-cycle", [{ id: "a", type: "tool_call", tool: "t", dependencies: ["a"] }], "cycle"],
  ["missing dependency", [{ id: "a", type: "tool_call", tool: "t", dependencies: ["ghost"] }], "unknown_dependency"],
  ["reference to an unknown action", [{ id: "a", type: "tool_call", tool: "t", parameters: { v: "$ghost.output" } }], "unknown_dependency"],
  ["duplicate id", [{ id: "a", type: "tool_call", tool: "t" }, { id: "a", type: "tool_call", tool: "t" }], "duplicate_id"],
] as const) {
  test(`${name} rejects the whole proposal before any tool runs`, async () => {
    const rt = runtime();
    let ran = 0;
    rt.registerTool({ name: "t" }, () => void ran++);
    await assert.rejects(rt.executeProposal({ actions }), (err: unknown) => err instanceof ProposalRejectedError && err.reason === reason);
    assert.equal(ran, 0);
    assert.equal(rt.events.query({ kinds: ["action_executing"] }).length, 0);
  });
}

test("invalid proposals name the path of the bad field", async () => {
  const rt = runtime();
  await assert.rejects(
    rt.executeProposal({ actions: [{ id: "a", type: "tool_call", tool: "t" }, { id: "b", type: "launch" }] }),
    (err: unknown) => err instanceof ValidationError && err.code === "invalid_proposal" && err.issues.some((i) => i.path === "actions[1].type"),
  );
  await assert.rejects(rt.executeProposal({ actions: [{ type: "state_write", parameters: {} }] }), (err: unknown) => err instanceof ValidationError && err.issues.some((i) => i.path === "actions[0].parameters.key"));
  await assert.rejects(rt.executeProposal({}), (err: unknown) => err instanceof ValidationError && err.issues.some((i) => i.path === "actions"));
});

test("unknown fields are ignored and defaults filled", async () => {
  const rt = runtime();
  rt.registerTool({ name: "t" }, (p) => p);
  const res = await rt.executeProposal({ future_field: 1, actions: [{ type: "tool_call", tool: "t", whatever: true }] });
  assert.equal(res.results[0]!.status, "succeeded");
  assert.match(res.proposal_id, /^[0-9a-f]{12}$/);
  assert.match(res.results[0]!.action_id, /^[0-9a-f-]{36}$/);
});

test("state_read outputs the value; assertion fails with failure_behavior", async () => {
  const rt = runtime();
  rt.state.set("n", 3);
  const res = await rt.executeProposal({
    actions: [
      { id: "r", type: "state_read", parameters: { key: "n" } },
      { id: "ok", type: "assertion", parameters: { key: "n", operator: "gte", value: 3 } },
      { id: "bad", type: "assertion", parameters: { key: "n", operator: "lt", value: 3 }, failure_behavior: "skip" },
    ],
  });
  assert.equal(res.results[0]!.output, 3);
  assert.equal(res.results[1]!.status, "succeeded");
  assert.equal(res.results[2]!.status, "failed");
  assert.match(res.results[2]!.error!, /assertion failed: n lt 3/);
});

test("expected_effects of a successful tool_call are written to state", async () => {
  const rt = runtime();
  rt.registerTool({ name: "create" }, () => ({ id: 42 }));
  const res = await rt.executeProposal({ actions: [{ id: "c", type: "tool_call", tool: "create", expected_effects: { created: true, created_id: "$c.output.id" } }] });
  assert.deepEqual(res.results[0]!.state_changes, { created: true, created_id: 42 });
  assert.equal(rt.state.get("created_id"), 42);
});

test("a TerminalToolError halts the runtime until clearHalt", async () => {
  const rt = runtime();
  rt.registerTool({ name: "fatal" }, () => {
    throw new TerminalToolError("disk on fire");
  });
  const res = await rt.executeProposal({ actions: [{ id: "f", type: "tool_call", tool: "fatal", failure_behavior: "skip" }] });
  assert.equal(res.results[0]!.terminal, true);
  await assert.rejects(rt.executeProposal({ actions: [] }), (e: unknown) => e instanceof ProposalRejectedError && e.reason === "halted");
  rt.clearHalt();
  await rt.executeProposal({ actions: [] });
});

test("tools without a handler go to the ToolExecutor; unknown tools fail", async () => {
  const calls: unknown[] = [];
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(3), executor: { execute: async (c) => (calls.push({ tool: c.tool, p: c.parameters, attempt: c.attempt }), "remote") } });
  rt.registerTool({ name: "remote", description: "runs elsewhere" });
  const res = await rt.executeProposal({ actions: [{ id: "a", type: "tool_call", tool: "remote", parameters: { q: 1 } }, { id: "b", type: "tool_call", tool: "nope", failure_behavior: "skip" }] });
  assert.equal(res.results[0]!.output, "remote");
  assert.deepEqual(calls, [{ tool: "remote", p: { q: 1 }, attempt: 1 }]);
  assert.equal(res.results[1]!.status, "failed");
  assert.match(res.results[1]!.error!, /unknown tool: nope/);
});

test("a guard that throws fails its action and the run rolls back, instead of rejecting with state half-applied", async () => {
  const rt = runtime();
  rt.state.set("balance", 10);
  rt.addGuard({
    check: (a) => {
      if (a.id === "w2") throw new Error("policy store unreachable");
      return [];
    },
  });
  rt.addGuard({ check: async (a) => (a.id === "w3" ? Promise.reject(new Error("async guard down")) : []) });
  const res = await rt.executeProposal({
    actions: [
      { id: "w1", type: "state_write", parameters: { key: "balance", value: 5 } },
      { id: "w2", type: "state_write", parameters: { key: "note", value: "x" }, dependencies: ["w1"] },
    ],
  });
  const by = Object.fromEntries(res.results.map((r) => [r.action_id, r]));
  assert.equal(by.w1!.rolled_back, true);
  assert.equal(by.w2!.status, "failed");
  assert.match(String(by.w2!.error), /guard failed: policy store unreachable/);
  assert.equal(rt.state.get("balance"), 10);
  assert.equal(rt.state.exists("note"), false);
  const res2 = await rt.executeProposal({ actions: [{ id: "w3", type: "state_write", parameters: { key: "balance", value: 1 } }] });
  assert.equal(res2.results[0]!.status, "failed");
  assert.match(String(res2.results[0]!.error), /async guard down/);
  assert.equal(rt.state.get("balance"), 10);
});

test("an admission guard that throws rejects the proposal with a completed record, instead of leaving it received but unfinished", async () => {
  const rt = runtime();
  rt.addAdmissionGuard({ admit: () => Promise.reject(new Error("quota service down")) });
  const res = await rt.executeProposal({ actions: [{ id: "w1", type: "state_write", parameters: { key: "k", value: 1 } }] });
  assert.equal(res.results[0]!.status, "rejected");
  assert.match(String(res.results[0]!.error), /admission_guard_error: an admission guard failed: quota service down/);
  assert.equal(rt.state.exists("k"), false);
  const completed = rt.events.query({ kinds: ["proposal_completed"] });
  assert.equal(completed.length, 1);
  assert.equal((completed[0]!.data as { status: string }).status, "rejected");
});
