import { test } from "node:test";
import assert from "node:assert/strict";
import { CarError, ManualClock, Runtime, SeededRandom, ValidationError, listCheckpoints, loadCheckpoint, replay, storeCheckpoint, type BatchOp, type Storage, type StorageValue } from "../../src/index.ts";

/** A tiny Map-backed Storage (the real adapters live on another branch). */
function mapStorage(): Storage & { map: Map<string, StorageValue> } {
  const map = new Map<string, StorageValue>();
  return {
    map,
    get: async (k) => map.get(k),
    set: async (k, v) => void map.set(k, v),
    delete: async (k) => map.delete(k),
    has: async (k) => map.has(k),
    list: async (prefix = "") => [...map.keys()].filter((k) => k.startsWith(prefix)).sort(),
    batch: async (ops: BatchOp[]) => {
      for (const op of ops) op.op === "set" ? map.set(op.key, op.value) : map.delete(op.key);
    },
    compareAndSet: async (k, expected, v) => {
      if (JSON.stringify(map.get(k)) !== JSON.stringify(expected)) return false;
      map.set(k, v);
      return true;
    },
    close: async () => {},
  };
}

function runtime() {
  const rt = new Runtime({ clock: new ManualClock(Date.UTC(2026, 1, 2)), random: new SeededRandom(21) });
  rt.registerTool({ name: "echo" }, (p) => p["v"]);
  rt.registerTool({ name: "clock" }, () => 1);
  return rt;
}

test("checkpoint round trip through Storage: state, tools, events (audit only) and metadata", async () => {
  const rt = runtime();
  await rt.executeProposal({ actions: [{ id: "a", type: "tool_call", tool: "echo", parameters: { v: { deep: [1, 2] } }, expected_effects: { result: "$a.output" } }] });
  rt.state.set("user", "ada");
  const cp = rt.saveCheckpoint({ reason: "before migration" });
  assert.deepEqual(Object.keys(cp).sort(), ["checkpoint_id", "created_at", "events", "metadata", "state", "tools"]);
  assert.deepEqual(cp.state, { result: { deep: [1, 2] }, user: "ada" });
  assert.deepEqual(cp.tools, ["clock", "echo"]);
  assert.equal(cp.created_at, "2026-02-02T00:00:00.000Z");
  assert.equal(cp.events.length, rt.events.count());
  const storage = mapStorage();
  const key = await storeCheckpoint(storage, cp);
  assert.equal(key, `checkpoints/${cp.checkpoint_id}`);
  assert.deepEqual(await listCheckpoints(storage), [cp.checkpoint_id]);

  // Change everything, then restore into a fresh runtime that lacks one tool.
  rt.state.set("user", "bob");
  rt.state.set("extra", true);
  const loaded = await loadCheckpoint(storage, cp.checkpoint_id);
  assert.deepEqual(loaded, cp);
  const report = rt.restoreCheckpoint(loaded);
  assert.deepEqual(report, { checkpoint_id: cp.checkpoint_id, keys: 2, missing_tools: [] });
  assert.deepEqual(rt.state.snapshot(), cp.state);

  const other = new Runtime({ clock: new ManualClock(0), random: new SeededRandom(1) });
  other.registerTool({ name: "echo" }, () => null);
  const eventsBefore = other.events.count();
  assert.deepEqual(other.restoreCheckpoint(loaded).missing_tools, ["clock"]);
  assert.deepEqual(other.state.snapshot(), cp.state);
  assert.equal(other.events.count(), eventsBefore + 1, "events are not replayed on restore; one state_changed records the restore");
});

test("a restore is logged so that replay reaches the same final state", async () => {
  const rt = runtime();
  rt.state.set("a", 1);
  const cp = rt.saveCheckpoint();
  rt.state.set("a", 2);
  rt.state.set("b", 3);
  rt.restoreCheckpoint(cp);
  const ev = rt.events.query({ kinds: ["state_changed"] })[0]!;
  assert.deepEqual(ev.data, { changes: { a: 1 }, deleted: ["b"], source: "checkpoint" });
  assert.deepEqual((await replay(rt.events.all())).finalState, { a: 1 });
});

test("bad checkpoints fail clearly: not found, malformed input, another format version", async () => {
  const rt = runtime();
  const storage = mapStorage();
  await assert.rejects(loadCheckpoint(storage, "nope"), (e: unknown) => e instanceof CarError && e.code === "not_found");
  assert.throws(() => rt.restoreCheckpoint({ checkpoint_id: "x", state: {} }), ValidationError);
  await storage.set("checkpoints/v9", { format_version: 9, checkpoint: {} });
  await assert.rejects(loadCheckpoint(storage, "v9"), (e: unknown) => e instanceof CarError && e.code === "corrupted" && /format_version/.test(e.message));
  await storage.set("checkpoints/bad", { format_version: 1, checkpoint: { checkpoint_id: 3 } });
  await assert.rejects(loadCheckpoint(storage, "bad"), (e: unknown) => e instanceof CarError && e.code === "corrupted");
});
