import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsAppendLog, createFsStorage } from "../../adapters/storage/fs.ts";
import { createMemoryAppendLog, createMemoryStorage } from "../../adapters/storage/memory.ts";
import { CarError, EventLog, ManualClock, PersistentRuntime, RUNTIME_STATE_KEY, SeededRandom, type AppendLog, type Storage } from "../../src/index.ts";

interface Stores {
  storage: Storage;
  log: AppendLog;
}

function stores(): Stores {
  return { storage: createMemoryStorage(), log: createMemoryAppendLog() };
}

function open(s: Stores, seed = 1): Promise<PersistentRuntime> {
  return PersistentRuntime.open({ ...s, clock: new ManualClock(Date.UTC(2026, 0, 1)), random: new SeededRandom(seed) });
}

const WRITE_AND_CALL = {
  id: "p1",
  actions: [
    { id: "w", type: "state_write", parameters: { key: "greeting", value: { text: "hello", n: 1 } } },
    { id: "t", type: "tool_call", tool: "echo", parameters: { x: "$w.output" }, dependencies: ["w"] },
  ],
};

test("events and state come back after a reopen, and the journal continues without duplicates", async () => {
  const s = stores();
  const rt = await open(s);
  assert.deepEqual(rt.restored, { journalEvents: 0, events: 0, stateKeys: 0 });
  rt.registerTool({ name: "echo" }, (p) => p);
  const res = await rt.executeProposal(WRITE_AND_CALL);
  assert.equal(res.results.every((r) => r.status === "succeeded"), true);
  const before = rt.events.all();
  assert.ok(before.some((e) => e.kind === "proposal_completed"));
  await rt.close();

  const again = await open(s, 2);
  assert.deepEqual(again.restored, { journalEvents: before.length, events: before.length, stateKeys: 1 });
  assert.deepEqual(again.state.get("greeting"), { text: "hello", n: 1 });
  assert.deepEqual(again.events.all(), before);
  assert.deepEqual(await again.journal.readAll(), before, "the journal holds exactly the events, once each");
  again.state.set("more", 2);
  await again.flush();
  const journal = await again.journal.readAll();
  assert.equal(journal.length, before.length + 1);
  assert.equal(journal.at(-1)!.kind, "state_changed");
  await again.close();
  const third = await open(s, 3);
  assert.deepEqual(third.state.snapshot(), { greeting: { text: "hello", n: 1 }, more: 2 });
  assert.equal(third.events.count(), before.length + 1);
});

test("the state is saved between proposals only: a proposal in flight or aborted is never what is saved", async () => {
  const s = stores();
  const rt = await open(s);
  rt.state.set("balance", 10);
  await rt.flush();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  rt.registerTool({ name: "wait_then_fail" }, async () => {
    entered();
    await gate;
    throw new Error("declined");
  });
  const run = rt.executeProposal({
    actions: [
      { id: "w", type: "state_write", parameters: { key: "balance", value: 0 } },
      { id: "t", type: "tool_call", tool: "wait_then_fail", dependencies: ["w"] },
    ],
  });
  await inside;
  await rt.flush(); // while the proposal runs: its events so far are journaled, the state is not saved
  const mid = (await s.storage.get(RUNTIME_STATE_KEY)) as { state: Record<string, unknown> };
  assert.deepEqual(mid.state, { balance: 10 }, "the half-run proposal's write is not saved");
  const journalMid = await rt.journal.readAll();
  assert.ok(journalMid.some((e) => e.kind === "action_succeeded" && e.action_id === "w"), "but its events are journaled as they happen");
  release();
  const res = await run;
  assert.equal(res.results.find((r) => r.action_id === "t")!.status, "failed");
  await rt.close();
  const again = await open(s);
  assert.deepEqual(again.state.snapshot(), { balance: 10 }, "rolled back, and saved so");
  assert.ok(again.events.query({ kinds: ["state_rollback"] }).length === 1);
});

test("a hash-chained log stays chained across a reopen and verifies end to end", async () => {
  const s = stores();
  const rt = await open(s);
  rt.events.enableChain();
  rt.state.set("a", 1);
  rt.state.set("b", 2);
  await rt.close();
  const again = await open(s);
  assert.equal(again.events.chainEnabled, true);
  again.state.set("c", 3);
  await again.flush();
  assert.deepEqual(await again.events.verifyChain(), { verified: 3 });
  const reread = await open(s);
  assert.deepEqual(await reread.events.verifyChain(), { verified: 3 });
  assert.equal(reread.events.all()[2]!.prev_hash, reread.events.all()[1]!.hash);
});

test("checkpoints are stored, listed and restored across a reopen", async () => {
  const s = stores();
  const rt = await open(s);
  rt.state.set("v", 1);
  const cp = await rt.storeCheckpoint({ label: "one" });
  rt.state.set("v", 2);
  await rt.close();
  const again = await open(s);
  assert.deepEqual(await again.listStoredCheckpoints(), [cp.checkpoint_id]);
  assert.equal(again.state.get("v"), 2);
  const report = await again.restoreStoredCheckpoint(cp.checkpoint_id);
  assert.deepEqual(report, { checkpoint_id: cp.checkpoint_id, keys: 1, missing_tools: [] });
  await again.close();
  assert.equal((await open(s)).state.get("v"), 1, "the restored state was saved");
  await assert.rejects(again.restoreStoredCheckpoint("nope"), (e: unknown) => e instanceof CarError && e.code === "storage_error", "closed");
  await assert.rejects((await open(s)).restoreStoredCheckpoint("nope"), (e: unknown) => e instanceof CarError && e.code === "not_found");
});

test("a failed write is reported and stops further persistence", async () => {
  const s = stores();
  let fail = false;
  const failing: Storage = { ...s.storage, get: s.storage.get.bind(s.storage), set: async (k, v) => (fail ? Promise.reject(new Error("quota exceeded")) : s.storage.set(k, v)) };
  const rt = await PersistentRuntime.open({ storage: failing, log: s.log });
  rt.state.set("ok", 1);
  await rt.flush();
  fail = true;
  rt.state.set("lost", 1);
  await assert.rejects(rt.flush(), (e: unknown) => e instanceof CarError && e.code === "storage_error" && /quota exceeded/.test(e.message));
  await assert.rejects(rt.executeProposal({ actions: [] }), (e: unknown) => e instanceof CarError && e.code === "storage_error");
  const again = await open(s);
  assert.deepEqual(again.state.snapshot(), { ok: 1 });
});

test("an unreadable saved state or journal fails the open with corrupted", async () => {
  const s = stores();
  await s.storage.set(RUNTIME_STATE_KEY, { format_version: 99, state: {} });
  await assert.rejects(open(s), (e: unknown) => e instanceof CarError && e.code === "corrupted" && e.message.includes(RUNTIME_STATE_KEY));
  const t = stores();
  await t.log.append(new TextEncoder().encode(JSON.stringify({ v: 1, event: { kind: "no_such_kind" } })));
  await assert.rejects(open(t), (e: unknown) => e instanceof CarError && e.code === "corrupted");
});

test("compactJournal keeps the newest records; the next open sees only those", async () => {
  const s = stores();
  const rt = await open(s);
  for (let i = 0; i < 5; i++) rt.state.set(`k${i}`, i);
  assert.equal(await rt.compactJournal(2), 2);
  rt.state.set("k5", 5);
  await rt.close();
  const again = await open(s);
  assert.deepEqual(again.events.all().map((e) => Object.keys(e.data["changes"] as object)[0]), ["k3", "k4", "k5"]);
  assert.equal(again.state.get("k0"), 0, "the state does not depend on the journal");
  await assert.rejects(again.compactJournal(-1), (e: unknown) => e instanceof CarError && e.code === "invalid_input");
});

test("EventLog.restore keeps the newest maxEvents and refuses a non-empty log", () => {
  const src = new EventLog({ clock: new ManualClock() });
  for (let i = 0; i < 4; i++) src.append({ kind: "state_changed", data: { i } });
  const log = new EventLog({ maxEvents: 3 });
  log.restore(src.all());
  assert.deepEqual(log.all().map((e) => e.data["i"]), [1, 2, 3]);
  assert.throws(() => log.restore(src.all()), (e: unknown) => e instanceof CarError && e.code === "conflict");
});

test("on the fs adapters: a new process (reopened files) gets the state and events back", async () => {
  const dir = await mkdtemp(join(tmpdir(), "car-persistent-"));
  try {
    const openFs = async () => ({ storage: await createFsStorage({ root: join(dir, "state") }), log: await createFsAppendLog({ path: join(dir, "events.log") }) });
    const first = await openFs();
    const rt = await open(first);
    rt.registerTool({ name: "echo" }, (p) => p);
    await rt.executeProposal(WRITE_AND_CALL);
    const events = rt.events.all();
    await rt.close();
    await first.log.close();
    await first.storage.close();
    const second = await openFs();
    try {
      const again = await open(second);
      assert.deepEqual(again.state.snapshot(), { greeting: { text: "hello", n: 1 } });
      assert.deepEqual(again.events.all(), events);
      assert.equal(await again.compactJournal(1), 1);
      assert.equal((await again.journal.readAll()).length, 1);
    } finally {
      await second.log.close();
      await second.storage.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
