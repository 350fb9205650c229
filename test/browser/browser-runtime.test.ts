/**
 * createBrowserRuntime in this process on fake-indexeddb, so its wiring is tested where Chromium is
 * missing too (chromium.test.ts runs the same in a real page).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { CarError, ManualClock, SeededRandom, createBrowserRuntime, readJournal, type BrowserRuntimeOptions, type Runtime } from "../../runtimes/browser.ts";

const g = globalThis as { indexedDB?: unknown; IDBKeyRange?: unknown };

function withIndexedDb(): void {
  g.indexedDB = new IDBFactory();
  g.IDBKeyRange = IDBKeyRange;
}

const isCode = (code: string) => (e: unknown) => e instanceof CarError && e.code === code;

test("no IndexedDB, or no dbName: a clear error", async () => {
  delete g.indexedDB;
  await assert.rejects(createBrowserRuntime({ dbName: "x" }), isCode("unsupported"));
  withIndexedDb();
  await assert.rejects(createBrowserRuntime({ dbName: "" }), isCode("invalid_input"));
  await assert.rejects(createBrowserRuntime(undefined as unknown as BrowserRuntimeOptions), isCode("invalid_input"));
});

test("runtime state, events, memory and checkpoints persist across a close and reopen", async () => {
  withIndexedDb();
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const opts = { dbName: "app", clock, random: new SeededRandom(4), setup: (rt: Runtime) => void rt.registerTool({ name: "greet" }, (p) => `hello ${String(p["name"])}`) };
  const car = await createBrowserRuntime(opts);
  const res = await car.runtime.executeProposal({
    actions: [
      { id: "g", type: "tool_call", tool: "greet", parameters: { name: "ada" } },
      { id: "w", type: "state_write", parameters: { key: "greeting", value: "$g.output" }, dependencies: ["g"] },
    ],
  });
  assert.deepEqual(res.results.map((r) => r.status), ["succeeded", "succeeded"]);
  const fact = await (await car.memory.get("team")).addFact("deploy.day", "deploys happen on tuesdays");
  const cp = await car.storeCheckpoint();
  car.runtime.state.set("greeting", "overwritten");
  const events = car.runtime.events.all();
  await car.close();
  await car.close(); // idempotent
  await assert.rejects(car.storage.get("x"), isCode("storage_error"));
  await assert.rejects(car.runtime.executeProposal({ actions: [] }), isCode("storage_error"));

  const again = await createBrowserRuntime(opts);
  assert.deepEqual(again.runtime.state.snapshot(), { greeting: "overwritten" });
  assert.deepEqual(again.runtime.events.all(), events);
  assert.deepEqual(await readJournal(again.log), events);
  assert.deepEqual(await again.listCheckpoints(), [cp.checkpoint_id]);
  assert.deepEqual(await again.restoreCheckpoint(cp.checkpoint_id), { checkpoint_id: cp.checkpoint_id, keys: 1, missing_tools: [] });
  await assert.rejects(again.restoreCheckpoint("nope"), isCode("not_found"));
  const hits = await (await again.memory.get("team")).query("when are deploys", 1);
  assert.equal(hits[0]?.node.id, fact);
  assert.deepEqual(await (await again.memory.get()).query("deploys", 1), [], "other scopes do not see it");
  assert.ok((await again.runtime.compactJournal()).dropped > events.length);
  await again.close();

  const third = await createBrowserRuntime(opts);
  assert.deepEqual(third.runtime.state.snapshot(), { greeting: "hello ada" }, "the checkpoint restore, kept through the compaction");
  assert.equal(third.recovery.records, 1, "the compacted journal is one snapshot");
  await third.close();

  const other = await createBrowserRuntime({ dbName: "other-app" });
  assert.deepEqual([other.recovery.records, other.recovery.state_keys], [0, 0], "each dbName is its own runtime");
  await other.close();
});
