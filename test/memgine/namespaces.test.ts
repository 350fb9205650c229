import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../src/engine/clock.ts";
import { SeededRandom } from "../../src/engine/random.ts";
import { CarError } from "../../src/errors.ts";
import { MemoryRegistry, encodeNamespace, openMemory, scopePrefix } from "../../src/memgine/registry.ts";
import { MapStorage } from "./helpers.ts";

const opts = () => ({ clock: new ManualClock(), random: new SeededRandom(3) });

test("a fact of one namespace never appears in another (query, context, count, skills)", async () => {
  const storage = new MapStorage();
  const reg = new MemoryRegistry(storage, opts());
  const alpha = await reg.get("project-alpha");
  const beta = await reg.get({ memory_namespace: "project-beta" });
  const shared = await reg.get();
  const agent = await reg.get({ agent_id: "agent-7" });

  await alpha.addFact("secret codename", "alpha codename is BLUEFALCON");
  await alpha.ingestSkill({ name: "alpha_deploy", code: "deploy()", task_keywords: ["deploy"] });
  await beta.addFact("codename", "beta codename is REDWOLF");

  for (const [name, mem] of [["beta", beta], ["shared", shared], ["agent", agent]] as const) {
    assert.deepEqual((await mem.query("codename bluefalcon", 10)).filter((h) => h.node.body.includes("BLUEFALCON")), [], name);
    assert.ok(!(await mem.buildContext("codename bluefalcon")).includes("BLUEFALCON"), name);
    assert.ok(!mem.buildContextFast().includes("BLUEFALCON"), name);
    assert.deepEqual(mem.findSkill({ task: "deploy" }), [], name);
  }
  assert.equal(alpha.factCount, 1);
  assert.equal(beta.factCount, 1);
  assert.equal(shared.factCount, 0);

  // Same scope → same graph; a namespace wins over an agent id.
  assert.equal(await reg.get({ memory_namespace: "project-alpha", agent_id: "agent-7" }), alpha);
  assert.equal(await reg.get("project-alpha"), alpha);

  // Reopened from storage by a fresh registry, the isolation holds.
  const again = new MemoryRegistry(storage, opts());
  assert.equal((await again.get("project-beta")).factCount, 1);
  const reBeta = await again.get("project-beta");
  assert.ok(!(await reBeta.buildContext("codename")).includes("BLUEFALCON"));
  assert.match(await (await again.get("project-alpha")).buildContext("codename"), /BLUEFALCON/);
});

test("namespace encoding is injective: case, separators and look-alikes get distinct keys", () => {
  const names = ["Alpha", "alpha", "a/b", "a%2fb", "a b", "a_b", "ns/x", "é", "e", "..", "%", ""];
  const encoded = names.map(encodeNamespace);
  assert.equal(new Set(encoded).size, names.length);
  for (const e of encoded) assert.match(e, /^[a-z0-9._%-]*$/);
  assert.equal(encodeNamespace("Alpha/1"), "%41lpha%2f1");
  assert.equal(scopePrefix(undefined), "memgine/shared/");
  assert.equal(scopePrefix(""), "memgine/shared/");
  assert.equal(scopePrefix({ agent_id: "Bob" }), "memgine/agent/%42ob/");
  assert.throws(() => scopePrefix("x".repeat(300)), (e: unknown) => e instanceof CarError && e.code === "invalid_input");
});

test("writes go through to storage: a reopened graph equals the one written", async () => {
  const storage = new MapStorage();
  const mem = await openMemory(storage, "wt", opts());
  const a = await mem.addFact("a", "first", "knowledge", { tags: ["t"], source: "doc" });
  const b = await mem.addFact("a", "second");
  await mem.addConclusion("c", "derived", [b]);
  await mem.ingestSkill({ name: "s", code: "x" });
  await mem.reportOutcome("s", "success");
  await mem.setIdentity("name", "bot");
  await mem.addTurn("user", "hi");
  assert.ok(storage.batchCount >= 7);
  const reopened = await openMemory(storage, "wt", opts());
  assert.deepEqual(reopened.snapshot(), mem.snapshot());
  assert.deepEqual(await reopened.query("second", 3).then((h) => h.map((x) => x.node.id)), await mem.query("second", 3).then((h) => h.map((x) => x.node.id)));

  await mem.delete(a);
  await mem.consolidate();
  assert.deepEqual((await openMemory(storage, "wt", opts())).snapshot(), mem.snapshot());
});

test("a storage failure surfaces as an error and the next write retries it", async () => {
  const storage = new MapStorage();
  const mem = await openMemory(storage, "f", opts());
  storage.failNextBatch = new Error("disk full");
  await assert.rejects(mem.addFact("x", "y"), /disk full/);
  assert.equal((await openMemory(storage, "f", opts())).factCount, 0, "nothing half-written");
  await mem.addFact("z", "w");
  const reopened = await openMemory(storage, "f", opts());
  assert.equal(reopened.factCount, 2);
  assert.deepEqual(reopened.snapshot(), mem.snapshot());
});

test("a corrupted or newer stored graph is refused, not half-read", async () => {
  const storage = new MapStorage();
  await storage.set("memgine/ns/bad/n/fact-1", { nonsense: true });
  await assert.rejects(openMemory(storage, "bad"), (e: unknown) => e instanceof CarError && e.code === "corrupted");
  await storage.set("memgine/ns/new/meta", { format: "car-memgine", schema_version: 99 });
  await assert.rejects(openMemory(storage, "new"), (e: unknown) => e instanceof CarError && /schema_version 99/.test(e.message));
});
