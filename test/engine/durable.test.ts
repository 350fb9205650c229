import { test } from "node:test";
import assert from "node:assert/strict";
import { createMemoryAppendLog } from "../../adapters/storage/memory.ts";
import { CarError, EventLog, Runtime, openDurableRuntime, readJournal, replay, type DurabilityOptions, type ProposalResult, type RuntimeOptions } from "../../src/index.ts";
import type { AppendLog } from "../../src/storage/storage.ts";
import { chainProposal, stepOutput, wrapLog } from "./durable-helpers.ts";

const decoder = new TextDecoder();

/** The state and result of the chain run without a journal or a crash. */
async function reference(n: number) {
  const rt = new Runtime();
  rt.registerTool({ name: "step" }, (p) => stepOutput(p));
  const result = await rt.executeProposal(chainProposal(n));
  return { state: rt.state.snapshot(), result };
}

/** Starts the chain on `log` with a step tool that never returns at step `hangAt` (the "crash"). */
async function startAndHang(log: AppendLog, n: number, hangAt: number, options: RuntimeOptions = {}) {
  const rt = new Runtime({ ...options, journal: log });
  rt.events.enableChain();
  const ran: number[] = [];
  let reached!: () => void;
  const hung = new Promise<void>((r) => (reached = r));
  rt.registerTool({ name: "step" }, (p) => {
    ran.push(p["i"] as number);
    if (p["i"] === hangAt) {
      reached();
      return new Promise(() => {});
    }
    return stepOutput(p);
  });
  void rt.executeProposal(chainProposal(n));
  await hung;
  return { rt, ran };
}

async function reopen(log: AppendLog, options: { durability?: DurabilityOptions } = {}) {
  const ran: number[] = [];
  const { runtime, recovery } = await openDurableRuntime({
    journal: log,
    ...options,
    setup: (rt) => void rt.registerTool({ name: "step" }, (p) => (ran.push(p["i"] as number), stepOutput(p))),
  });
  return { runtime, recovery, ran };
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => `s${from + k}`);
const strip = (r: ProposalResult) => r.results.map(({ action_id, status, output, error, state_changes }) => ({ action_id, status, output, error, state_changes }));

test("every event is journalled with its hash, and a level's outcomes are durable before the next level starts", async () => {
  const log = createMemoryAppendLog();
  const rt = new Runtime({ journal: log });
  rt.events.enableChain();
  const durableAtCall: boolean[] = [];
  rt.registerTool({ name: "step" }, async (p) => {
    const i = p["i"] as number;
    const journalled = await readJournal(log);
    durableAtCall.push(i === 0 || journalled.some((e) => e.kind === "action_succeeded" && e.action_id === `s${i - 1}`));
    return stepOutput(p);
  });
  const res = await rt.executeProposal(chainProposal(6));
  assert.ok(res.results.every((r) => r.status === "succeeded"));
  assert.deepEqual(durableAtCall, [true, true, true, true, true, true]);
  const journalled = await readJournal(log);
  assert.deepEqual(journalled, rt.events.all());
  assert.ok(journalled.every((e) => typeof e.hash === "string"));
  const chain = await EventLog.fromJSONL(journalled.map((e) => JSON.stringify(e)).join("\n")).verifyChain();
  assert.deepEqual(chain, { verified: journalled.length });
});

test("a failed journal write fails the proposal loudly, rolls back, and the runtime refuses further work", async () => {
  const { log } = wrapLog(createMemoryAppendLog(), { beforeAppend: (n) => (n >= 12 ? "fail" : undefined) });
  const rt = new Runtime({ journal: log });
  const ran: number[] = [];
  rt.registerTool({ name: "step" }, (p) => (ran.push(p["i"] as number), stepOutput(p)));
  await assert.rejects(rt.executeProposal(chainProposal(10)), (err: unknown) => err instanceof CarError && err.code === "storage_error" && /journal write failed/.test(err.message));
  assert.ok(ran.length < 10, `the run stopped at the failed write (ran ${ran.length})`);
  assert.equal(rt.state.get("acc"), null, "state rolled back");
  assert.equal(rt.events.query({ kinds: ["state_rollback"] }).length, 1);
  await assert.rejects(rt.executeProposal(chainProposal(2, "next")), (err: unknown) => err instanceof CarError && err.code === "storage_error");
  await assert.rejects(rt.flushJournal(), (err: unknown) => err instanceof CarError && err.code === "storage_error");
});

test("after a crash mid-proposal, recovery resumes it: completed steps are adopted, the rest run once, replay reproduces it", async () => {
  const n = 12;
  const log = createMemoryAppendLog();
  const first = await startAndHang(log, n, 8);
  assert.deepEqual(first.ran, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const { runtime, recovery, ran } = await reopen(log);
  assert.deepEqual(ran, [8, 9, 10, 11], "only the interrupted step and the ones after it ran again");
  assert.equal(recovery.resumed.length, 1);
  const resumed = recovery.resumed[0]!;
  assert.deepEqual(resumed.adopted, ids(0, 8));
  assert.deepEqual(resumed.rerun, ids(8, n));
  const ref = await reference(n);
  assert.deepEqual(runtime.state.snapshot(), ref.state);
  assert.deepEqual(strip(resumed.result!), strip(ref.result));
  assert.equal(resumed.result!.cost.tool_calls, n);
  assert.equal(runtime.events.query({ kinds: ["proposal_resumed"] }).length, 1);

  const rep = await replay(await readJournal(log));
  assert.deepEqual(rep.divergences, []);
  assert.deepEqual(rep.finalState, ref.state);
  assert.deepEqual(strip(rep.results[0]!), strip(ref.result));
  // The recovered runtime goes on journalling; a third process finds nothing to resume.
  await runtime.executeProposal({ id: "after", actions: [{ id: "w", type: "state_write", parameters: { key: "after", value: true } }] });
  const third = await reopen(log);
  assert.deepEqual(third.recovery.resumed, []);
  assert.deepEqual(third.runtime.state.snapshot(), { ...ref.state, after: true });
});

test("snapshots: recovery starts from the last one, restores the same state, and replay still reads the whole journal", async () => {
  const n = 40;
  const durability = { snapshots: { minBytes: 2_000, growthFactor: 1 } };
  const log = createMemoryAppendLog();
  const first = await startAndHang(log, n, 30, { durability });
  assert.equal(first.ran.length, 31);
  let records = 0;
  let snapshots = 0;
  for await (const rec of log.read(0)) {
    records++;
    if (decoder.decode(rec.data).includes('"journal_snapshot"')) snapshots++;
  }
  assert.ok(snapshots >= 2, `snapshots were written (${snapshots})`);
  const { runtime, recovery, ran } = await reopen(log, { durability });
  assert.notEqual(recovery.snapshot_offset, null);
  assert.ok(recovery.records < records / 2, `recovery read ${recovery.records} of ${records} records`);
  assert.deepEqual(ran, Array.from({ length: 10 }, (_, k) => 30 + k));
  const ref = await reference(n);
  assert.deepEqual(runtime.state.snapshot(), ref.state);
  assert.deepEqual(strip(recovery.resumed[0]!.result!), strip(ref.result));
  const rep = await replay(await readJournal(log));
  assert.deepEqual(rep.divergences, []);
  assert.deepEqual(rep.finalState, ref.state);
});

test("a failure recorded before the crash is adopted on resume: the proposal aborts and rolls back to its starting state", async () => {
  let hang = false;
  const inner = createMemoryAppendLog();
  // The crash: nothing from the rollback on reaches the journal.
  const { log } = wrapLog(inner, { beforeAppend: (_n, data) => ((hang ||= decoder.decode(data).includes('"state_rollback"')) ? "hang" : undefined) });
  const rt = new Runtime({ journal: log });
  let cardCalls = 0;
  rt.registerTool({ name: "card" }, () => {
    cardCalls++;
    throw new Error("declined");
  });
  rt.state.set("balance", 10);
  await rt.flushJournal();
  const proposal = {
    id: "pay",
    actions: [
      { id: "w", type: "state_write", parameters: { key: "balance", value: 5 } },
      { id: "c", type: "tool_call", tool: "card", dependencies: ["w"] },
      { id: "x", type: "state_write", parameters: { key: "done", value: true }, dependencies: ["c"] },
    ],
  };
  void rt.executeProposal(proposal);
  while (!hang) await new Promise((r) => setTimeout(r, 1));
  assert.equal(cardCalls, 1);

  const { runtime, recovery } = await openDurableRuntime({ journal: inner, setup: (r) => void r.registerTool({ name: "card" }, () => (cardCalls++, "charged")) });
  assert.equal(cardCalls, 1, "the recorded failure was not retried");
  const result = recovery.resumed[0]!.result!;
  const by = Object.fromEntries(result.results.map((r) => [r.action_id, r]));
  assert.equal(by["c"]!.status, "failed");
  assert.equal(by["w"]!.rolled_back, true);
  assert.equal(by["x"]!.status, "skipped");
  assert.deepEqual(runtime.state.snapshot(), { balance: 10 });
  const rep = await replay(await readJournal(inner));
  assert.deepEqual(rep.divergences, []);
  assert.deepEqual(rep.finalState, { balance: 10 });
});

test("direct state writes are journalled and come back after a restart", async () => {
  const log = createMemoryAppendLog();
  const rt = new Runtime({ journal: log });
  rt.state.set("a", { x: [1, 2] });
  rt.state.set("b", "two");
  rt.state.delete("b");
  await rt.flushJournal();
  const { runtime, recovery } = await openDurableRuntime({ journal: log });
  assert.deepEqual(recovery.resumed, []);
  assert.deepEqual(runtime.state.snapshot(), { a: { x: [1, 2] } });
});

test("misuse is a clear error: no recover() on a used journal, recover() after writing, recover() without a journal", async () => {
  const log = createMemoryAppendLog();
  const rt = new Runtime({ journal: log });
  rt.state.set("k", 1);
  await rt.flushJournal();
  const fresh = new Runtime({ journal: log });
  await assert.rejects(fresh.executeProposal({ actions: [{ id: "w", type: "state_write", parameters: { key: "k", value: 2 } }] }), (err: unknown) => err instanceof CarError && err.code === "conflict" && /recover/.test(err.message));
  const late = new Runtime({ journal: log });
  late.state.set("z", 1);
  await assert.rejects(late.recover(), (err: unknown) => err instanceof CarError && err.code === "conflict");
  await assert.rejects(new Runtime().recover(), (err: unknown) => err instanceof CarError && err.code === "unsupported");
  const twice = await openDurableRuntime({ journal: log });
  await assert.rejects(twice.runtime.recover(), (err: unknown) => err instanceof CarError && err.code === "conflict");
});

test("an invalid proposal and an admission rejection are journalled before the call returns", async () => {
  const log = createMemoryAppendLog();
  const rt = new Runtime({ journal: log });
  await assert.rejects(rt.executeProposal({ id: "cyc", actions: [{ id: "a", type: "state_read", parameters: { key: "x" }, dependencies: ["b"] }, { id: "b", type: "state_read", parameters: { key: "x" }, dependencies: ["a"] }] }));
  const journalled = await readJournal(log);
  assert.deepEqual(journalled.map((e) => e.kind), ["proposal_received", "proposal_completed"]);
  assert.equal(journalled[1]!.data["status"], "invalid");
  rt.setBudget({ max_actions: 0 });
  const res = await rt.executeProposal({ id: "big", actions: [{ id: "w", type: "state_write", parameters: { key: "k", value: 1 } }] });
  assert.equal(res.results[0]!.status, "rejected");
  assert.equal((await readJournal(log)).at(-1)!.data["status"], "rejected");
});

test("a tool output JSON cannot hold fails its action; the journal keeps working for later proposals", async () => {
  const log = createMemoryAppendLog();
  const rt = new Runtime({ journal: log });
  rt.registerTool({ name: "now" }, () => ({ when: new Date(0) }));
  await rt.recover();
  rt.state.set("k", 0);
  const first = await rt.executeProposal({ actions: [
    { id: "w", type: "state_write", parameters: { key: "k", value: 1 } },
    { id: "a", type: "tool_call", tool: "now", dependencies: ["w"] },
  ] });
  assert.equal(first.results[1]!.status, "failed");
  assert.match(String(first.results[1]!.error), /output\.when is a Date/);
  assert.equal(rt.state.get("k"), 0);
  const second = await rt.executeProposal({ actions: [{ id: "b", type: "state_write", parameters: { key: "k", value: 2 } }] });
  assert.equal(second.results[0]!.status, "succeeded");
  await rt.flushJournal();
  const again = new Runtime({ journal: log });
  again.registerTool({ name: "now" }, () => ({ when: 0 }));
  await again.recover();
  assert.equal(again.state.get("k"), 2);
});

test("state writes and proposals JSON cannot hold are refused up front (invalid_input); the journal keeps working", async () => {
  const log = createMemoryAppendLog();
  const rt = new Runtime({ journal: log });
  await rt.recover();
  const refused = (e: unknown) => e instanceof CarError && e.code === "invalid_input";
  assert.throws(() => rt.state.set("d", new Date(0)), (e: unknown) => refused(e) && /state\.d is a Date/.test((e as Error).message));
  assert.throws(() => rt.state.merge({ ok: 1, bin: new Uint8Array([1]) }), (e: unknown) => refused(e) && /state\.bin is a Uint8Array/.test((e as Error).message));
  assert.equal(rt.state.exists("d"), false);
  assert.equal(rt.state.exists("ok"), false);
  await assert.rejects(rt.executeProposal({ actions: [{ id: "w", type: "state_write", parameters: { key: "k", value: new Date(0) } }] }), refused);
  rt.state.set("k", 1);
  const ok = await rt.executeProposal({ actions: [{ id: "w", type: "state_write", parameters: { key: "k", value: 2 } }] });
  assert.equal(ok.results[0]!.status, "succeeded");
  await rt.flushJournal();
  const again = new Runtime({ journal: log });
  await again.recover();
  assert.equal(again.state.get("k"), 2);
  // Without a journal nothing is refused.
  const plain = new Runtime();
  plain.state.set("d", new Date(0));
  assert.ok(plain.state.get("d") instanceof Date);
});
