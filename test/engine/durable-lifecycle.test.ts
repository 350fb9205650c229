// A journaled runtime across reopens: history, hash chain, rollback, compaction, close, replayJournal, fs files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsAppendLog } from "../../adapters/storage/fs.ts";
import { createMemoryAppendLog } from "../../adapters/storage/memory.ts";
import { CarError, ManualClock, Runtime, SeededRandom, lazyAppendLog, openDurableRuntime, readJournal, replayJournal, type AppendLog, type DurableRuntimeOptions } from "../../src/index.ts";
import { wrapLog } from "./durable-helpers.ts";

const isCode = (code: string, pattern?: RegExp) => (e: unknown) => e instanceof CarError && e.code === code && (!pattern || pattern.test(e.message));

function open(journal: AppendLog, seed = 1, extra: Partial<DurableRuntimeOptions> = {}) {
  return openDurableRuntime({
    journal,
    clock: new ManualClock(Date.UTC(2026, 0, 1)),
    random: new SeededRandom(seed),
    setup: (rt) => {
      rt.registerTool({ name: "echo" }, (p) => p);
      rt.registerTool({ name: "refuse" }, () => {
        throw new Error("declined");
      });
    },
    ...extra,
  });
}

const WRITE_AND_CALL = {
  id: "p1",
  actions: [
    { id: "w", type: "state_write", parameters: { key: "greeting", value: { text: "hello", n: 1 } } },
    { id: "t", type: "tool_call", tool: "echo", parameters: { x: "$w.output" }, dependencies: ["w"] },
  ],
};

const ABORTING = {
  id: "p2",
  actions: [
    { id: "w", type: "state_write", parameters: { key: "greeting", value: "gone" } },
    { id: "r", type: "tool_call", tool: "refuse", dependencies: ["w"] },
  ],
};

test("state and the full event log (hashes included) come back after a reopen; the journal continues without duplicates", async () => {
  const log = createMemoryAppendLog();
  const { runtime: rt, recovery } = await open(log);
  assert.deepEqual(recovery, { records: 0, events: 0, snapshot_offset: null, state_keys: 0, resumed: [] });
  rt.events.enableChain();
  assert.equal((await rt.executeProposal(WRITE_AND_CALL)).results.every((r) => r.status === "succeeded"), true);
  const aborted = await rt.executeProposal(ABORTING);
  assert.deepEqual(aborted.results.map((r) => [r.action_id, r.status, r.rolled_back ?? false]), [["w", "succeeded", true], ["r", "failed", false]]);
  const before = rt.events.all();

  const again = await open(log, 2);
  assert.deepEqual([again.recovery.records, again.recovery.events, again.recovery.state_keys], [before.length, before.length, 1]);
  assert.deepEqual(again.runtime.state.snapshot(), { greeting: { text: "hello", n: 1 } }, "the aborted proposal stays rolled back");
  assert.deepEqual(again.runtime.events.all(), before);
  assert.equal(again.runtime.events.query({ kinds: ["state_rollback"] }).length, 1);
  assert.deepEqual(await readJournal(log), before, "the journal holds exactly the events, once each");
  again.runtime.state.set("more", 2);
  await again.runtime.flushJournal();
  assert.deepEqual(await again.runtime.events.verifyChain(), { verified: before.length + 1 });

  const third = await open(log, 3);
  assert.deepEqual(third.runtime.state.snapshot(), { greeting: { text: "hello", n: 1 }, more: 2 });
  assert.equal(third.runtime.events.count(), before.length + 1);
  assert.deepEqual(await third.runtime.events.verifyChain(), { verified: before.length + 1 }, "the chain spans every reopen");
  assert.equal(third.runtime.events.all()[before.length]!.prev_hash, before.at(-1)!.hash);
});

test("after a failed write, a reopen recovers exactly what was durable", async () => {
  let fail = false;
  const inner = createMemoryAppendLog();
  const { log } = wrapLog(inner, { beforeAppend: () => (fail ? "fail" : undefined) });
  const { runtime: rt } = await open(log);
  rt.state.set("ok", 1);
  await rt.flushJournal();
  fail = true;
  rt.state.set("lost", 1);
  await assert.rejects(rt.flushJournal(), isCode("storage_error", /disk full/));
  await assert.rejects(rt.executeProposal({ actions: [] }), isCode("storage_error"));
  const again = await open(inner);
  assert.deepEqual(again.runtime.state.snapshot(), { ok: 1 });
});

test("a record that is not an event fails recovery with corrupted, naming its offset", async () => {
  for (const body of ["not json", JSON.stringify({ v: 1, event: { kind: "no_such_kind", data: {}, timestamp: "t" } }), JSON.stringify({ v: 2, event: {} })]) {
    const log = createMemoryAppendLog();
    await log.append(new TextEncoder().encode(body));
    await assert.rejects(open(log), isCode("corrupted", /offset 1/), body);
  }
});

test("compactJournal: a snapshot, then only the records after it; state, chain and replay survive it", async () => {
  const log = createMemoryAppendLog();
  const { runtime: rt } = await open(log);
  rt.events.enableChain();
  for (let i = 0; i < 5; i++) rt.state.set(`k${i}`, i);
  await rt.executeProposal(WRITE_AND_CALL);
  const before = (await readJournal(log)).length;
  const c = await rt.compactJournal();
  assert.equal(c.dropped, before);
  assert.ok(c.snapshotBytes > 0);
  assert.deepEqual(await readJournal(log), [], "only the snapshot is left");
  rt.state.set("k5", 5);
  await rt.executeProposal({ ...ABORTING, id: "p3" });
  const expected = rt.state.snapshot();

  const again = await open(log);
  assert.deepEqual(again.runtime.state.snapshot(), expected);
  assert.equal(again.recovery.records, 1 + (await readJournal(log)).length, "recovery reads the snapshot and what came after");
  assert.deepEqual(again.runtime.events.all().map((e) => e.kind).slice(0, 2), ["state_changed", "proposal_received"]);
  assert.deepEqual(await again.runtime.events.verifyChain(), { verified: again.runtime.events.count() });
  assert.equal(again.runtime.events.all()[0]!.prev_hash, rt.events.all()[rt.events.count() - again.runtime.events.count() - 1]!.hash, "the chain continues across the compaction");

  const rep = await replayJournal(log);
  assert.deepEqual(rep.divergences, []);
  assert.deepEqual(rep.finalState, expected, "replay starts from the snapshot's state");
  assert.deepEqual(rep.results.map((r) => r.proposal_id), ["p3"]);
});

/** A journaled runtime with a `gate` tool that waits until `release`; `inside` resolves once it was called. */
async function gated() {
  const log = createMemoryAppendLog();
  let release!: (v: unknown) => void;
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const { runtime: rt } = await open(log, 1, { setup: (r) => void r.registerTool({ name: "gate" }, () => (entered(), new Promise((res) => (release = res)))) });
  return { log, rt, inside, release: (v: unknown) => release(v) };
}

test("compactJournal refuses while a proposal is unfinished, without snapshots, and without a journal", async () => {
  const { rt, inside, release } = await gated();
  const run = rt.executeProposal({ actions: [{ id: "g", type: "tool_call", tool: "gate" }] });
  await inside;
  await assert.rejects(rt.compactJournal(), isCode("conflict", /unfinished/));
  release("done");
  await run;
  assert.equal((await rt.compactJournal()).dropped > 0, true, "fine once it completed");
  const off = await openDurableRuntime({ journal: createMemoryAppendLog(), durability: { snapshots: false } });
  await assert.rejects(off.runtime.compactJournal(), isCode("unsupported"));
  await assert.rejects(new Runtime().compactJournal(), isCode("unsupported"));
});

test("closeJournal lets a running proposal finish, then refuses work; the AppendLog stays open", async () => {
  const { log, rt, inside, release } = await gated();
  const run = rt.executeProposal({ id: "slow", actions: [{ id: "g", type: "tool_call", tool: "gate" }] });
  await inside;
  const closed = rt.closeJournal();
  await assert.rejects(rt.executeProposal({ actions: [] }), isCode("storage_error", /closed/), "no new proposal while closing");
  release("done");
  assert.equal((await run).results[0]!.status, "succeeded");
  await closed;
  await rt.closeJournal(); // idempotent
  await assert.rejects(rt.flushJournal(), isCode("storage_error"));
  rt.state.set("after", 1);
  assert.deepEqual((await readJournal(log)).at(-1)!.kind, "proposal_completed", "nothing is journaled after the close");
  const again = await open(log);
  assert.deepEqual(again.recovery.resumed, []);
});

test("replayJournal: completed proposals are replayed, an unfinished one is listed and rolled back", async () => {
  const log = createMemoryAppendLog();
  const { runtime: rt } = await open(log, 1, { setup: (r) => void r.registerTool({ name: "hang" }, (p) => (p["now"] ? "ok" : new Promise(() => {}))) });
  const done = await rt.executeProposal({ id: "done", actions: [{ id: "a", type: "tool_call", tool: "hang", parameters: { now: true } }, { id: "s", type: "state_write", parameters: { key: "a", value: "$a.output" }, dependencies: ["a"] }] });
  void rt.executeProposal({ id: "cut", actions: [{ id: "w", type: "state_write", parameters: { key: "a", value: "half" } }, { id: "h", type: "tool_call", tool: "hang", dependencies: ["w"] }] });
  while (!(await readJournal(log)).some((e) => e.kind === "action_succeeded" && e.proposal_id === "cut")) await new Promise((r) => setTimeout(r, 1));
  const rep = await replayJournal(log);
  assert.deepEqual(rep.divergences, []);
  assert.deepEqual(rep.results.map((r) => r.results.map((x) => [x.action_id, x.status, x.output])), [done.results.map((x) => [x.action_id, x.status, x.output])]);
  assert.deepEqual(rep.unfinished, [{ proposal_id: "cut", recorded: ["w"] }]);
  assert.deepEqual(rep.finalState, { a: "ok" }, "the unfinished proposal is rolled back");
  assert.equal(rep.events, (await readJournal(log)).length);
});

test("lazyAppendLog opens on first use; closing it unused opens nothing and refuses later use", async () => {
  let opens = 0;
  const inner = createMemoryAppendLog();
  const lazy = lazyAppendLog(async () => (opens++, inner));
  const rt = new Runtime({ journal: lazy });
  await rt.flushJournal();
  assert.equal(opens, 0, "a runtime that recorded nothing never opens its journal");
  rt.state.set("x", 1);
  await rt.flushJournal();
  assert.equal(opens, 1);
  assert.equal((await readJournal(inner)).length, 1);
  const unused = lazyAppendLog(async () => (opens++, inner));
  await unused.close();
  await assert.rejects(unused.append(new Uint8Array([1])), isCode("storage_error"));
  assert.equal(opens, 1);
  const failing = lazyAppendLog(async () => Promise.reject(new CarError("locked", "test", "held elsewhere")));
  const bad = new Runtime({ journal: failing });
  bad.state.set("x", 1);
  await assert.rejects(bad.flushJournal(), isCode("storage_error", /held elsewhere/), "an open failure is a loud journal failure");
});

test("on the fs log: a new process (reopened file) gets state and events back, also after a compaction renumbered offsets", async () => {
  const dir = await mkdtemp(join(tmpdir(), "car-durable-life-"));
  const path = join(dir, "events.log");
  try {
    const first = await createFsAppendLog({ path });
    const { runtime: rt } = await open(first);
    await rt.executeProposal(WRITE_AND_CALL);
    await rt.closeJournal();
    const events = rt.events.all();
    await first.close();

    const second = await createFsAppendLog({ path });
    const again = await open(second);
    assert.deepEqual(again.runtime.state.snapshot(), { greeting: { text: "hello", n: 1 } });
    assert.deepEqual(again.runtime.events.all(), events);
    await again.runtime.compactJournal();
    await again.runtime.executeProposal({ ...ABORTING, id: "after" });
    await second.close();

    const third = await createFsAppendLog({ path });
    try {
      const last = await open(third);
      assert.deepEqual(last.runtime.state.snapshot(), { greeting: { text: "hello", n: 1 } });
      assert.deepEqual(last.runtime.events.all().filter((e) => e.kind === "proposal_completed").map((e) => e.proposal_id), ["after"]);
      assert.deepEqual((await replayJournal(third)).divergences, []);
    } finally {
      await third.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
