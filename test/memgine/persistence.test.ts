import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CarError } from "../../src/errors.ts";
import { relativeSegments, storageFileStore } from "../../src/memgine/file-store.ts";
import { createFsMemoryFileStore } from "../../adapters/memory/fs-file-store.ts";
import { MapStorage, testMemgine } from "./helpers.ts";
import type { Memgine } from "../../src/memgine/memgine.ts";

async function richGraph(mem: Memgine) {
  const a = await mem.addFact("lang", "Python", "pattern", { tags: ["x"], source: "chat", confidence: 0.8 });
  const b = await mem.addFact("lang", "Rust", "knowledge");
  const c = await mem.addFact("rule", "never force-push main", "constraint");
  await mem.addFact("deploy steps", "build, test, push image, argo sync", "procedural");
  await mem.link(b, c, "related_to", 0.5);
  await mem.addConclusion("toolchain", "install cargo", [b]);
  const dead = await mem.addConclusion("old toolchain", "install pip", [c]);
  await mem.delete(c);
  await mem.ingestSkill({ name: "build", code: "cargo build", task_keywords: ["build"], domain: "dev" });
  await mem.reportOutcome("build", "success");
  await mem.setIdentity("name", "bot");
  await mem.setEnvironment("cwd", "/repo");
  await mem.addTurn("user", "build it");
  await mem.addTurn("assistant", "ok");
  return { a, b, dead };
}

test("persist/load round trip restores an equal graph (facts, superseded, conclusions, skills, edges)", async () => {
  const files = storageFileStore(new MapStorage());
  const mem = testMemgine({ files });
  await richGraph(mem);
  const count = await mem.persist("snapshots/one.json");
  assert.equal(count, mem.factCount);

  const other = testMemgine({ files });
  await other.addFact("to be replaced", "load resets first");
  const loaded = await other.load("snapshots/one.json");
  assert.equal(loaded, count, "load answers the fact count, equal to what persist counted");
  assert.deepEqual(other.snapshot(), mem.snapshot());
  assert.deepEqual((await other.query("rust cargo", 5)).map((h) => [h.node.id, h.score]), (await mem.query("rust cargo", 5)).map((h) => [h.node.id, h.score]));
  assert.equal(await other.buildContext("build rust"), await mem.buildContext("build rust"));
  assert.deepEqual(other.listSkills(), mem.listSkills());
  // And the loaded graph keeps working: supersession still sees the loaded subjects.
  await other.addFact("lang", "Go");
  assert.equal(other.factCount, mem.factCount);
});

test("load through a store-backed graph replaces what is stored too", async () => {
  const { openMemory } = await import("../../src/memgine/registry.ts");
  const storage = new MapStorage();
  const files = storageFileStore(storage);
  const src = testMemgine({ files });
  await richGraph(src);
  await src.persist("g.json");
  const mem = await openMemory(storage, "dst", { files });
  await mem.addFact("stale", "gone after load");
  await mem.load("g.json");
  const reopened = await openMemory(storage, "dst", { files });
  assert.deepEqual(reopened.snapshot(), src.snapshot());
});

test("load accepts a bare fact list and ingests it in order; bad files change nothing", async () => {
  const storage = new MapStorage();
  const files = storageFileStore(storage);
  const mem = testMemgine({ files });
  await mem.addFact("keep", "me");
  await files.writeText("flat.json", JSON.stringify([{ subject: "a", body: "1" }, { subject: "a", body: "2", kind: "constraint" }, { subject: "b", body: "3" }]));
  assert.equal(await mem.load("flat.json"), 2, "second 'a' supersedes the first");
  assert.match(mem.buildContextFast(), /## Constraints\n- a: 2/);

  const before = mem.snapshot();
  const corrupt = (e: unknown) => e instanceof CarError && e.code === "corrupted";
  for (const [name, text] of [
    ["notjson.json", "{nope"],
    ["wrong.json", JSON.stringify({ format: "car-memgine", schema_version: 1, facts: [{ subject: 1 }], nodes: [], edges: [] })],
    ["future.json", JSON.stringify({ format: "car-memgine", schema_version: 2, facts: [], nodes: [], edges: [] })],
    ["dangling.json", JSON.stringify({ format: "car-memgine", schema_version: 1, facts: [], nodes: [], edges: [{ from: "a", to: "b", kind: "related_to", weight: 1 }] })],
  ] as const) {
    await files.writeText(name, text);
    await assert.rejects(mem.load(name), corrupt, name);
  }
  await assert.rejects(mem.load("missing.json"), (e: unknown) => e instanceof CarError && e.code === "not_found");
  assert.deepEqual(mem.snapshot(), before);
  await assert.rejects(testMemgine().persist("x.json"), (e: unknown) => e instanceof CarError && e.code === "unsupported");
});

test("path sandbox (lexical): NUL, .., absolute paths elsewhere are refused; inside paths are fine", () => {
  const root = "/home/u/.car/memory";
  const refused = (path: string, reason: string) =>
    assert.throws(() => relativeSegments(path, root), (e: unknown) => e instanceof CarError && e.code === "invalid_input" && e.details?.reason === reason, path);
  refused("../secrets.json", "dot_dot");
  refused("a/../../b.json", "dot_dot");
  refused("a\\..\\..\\b.json", "dot_dot");
  refused("/etc/passwd", "absolute_outside");
  refused("/home/u/.car/memory-evil/x.json", "absolute_outside");
  refused("C:\\Windows\\x.json", "absolute_outside");
  refused("a\0b.json", "nul");
  refused("", "empty");
  refused("/home/u/.car/memory", "empty");
  refused("x".repeat(5000), "too_long");
  assert.deepEqual(relativeSegments("a/./b.json", root), ["a", "b.json"]);
  assert.deepEqual(relativeSegments("/home/u/.car/memory/ns/x.json", root), ["ns", "x.json"]);
  assert.deepEqual(relativeSegments("x..y.json", root), ["x..y.json"]);
});

test("path sandbox (real file system): files stay under the root, symlink escapes are refused", async () => {
  const base = await mkdtemp(join(tmpdir(), "memgine-sandbox-"));
  try {
    const root = join(base, "memory");
    const outside = join(base, "outside");
    await mkdir(root, { recursive: true });
    await mkdir(outside);
    await writeFile(join(outside, "secret.json"), JSON.stringify([{ subject: "stolen", body: "secret" }]));
    await symlink(outside, join(root, "escape"));
    await symlink(join(outside, "secret.json"), join(root, "link.json"));
    await mkdir(join(root, "inner"));
    await symlink(join(root, "inner"), join(root, "inner-link"));

    const files = createFsMemoryFileStore({ root });
    const mem = testMemgine({ files });
    await mem.addFact("lang", "TypeScript");
    const escape = (e: unknown) => e instanceof CarError && e.code === "invalid_input";

    // Relative and absolute-inside paths work and land under the root.
    assert.equal(await mem.persist("ns/one.json"), 1);
    assert.equal(await mem.persist(join(root, "two.json")), 1);
    assert.ok(JSON.parse(await readFile(join(root, "ns", "one.json"), "utf8")).facts.length === 1);
    assert.equal(await testMemgine({ files }).load("two.json"), 1);
    // A symlink that stays inside the root is followed.
    assert.equal(await mem.persist("inner-link/three.json"), 1);
    assert.ok((await readdir(join(root, "inner"))).includes("three.json"));

    // Escapes: through a symlinked directory, a symlinked file, .., absolute paths elsewhere.
    await assert.rejects(mem.persist("escape/pwned.json"), escape);
    await assert.rejects(mem.load("escape/secret.json"), escape);
    await assert.rejects(mem.load("link.json"), escape);
    await assert.rejects(mem.persist("link.json"), escape);
    await assert.rejects(mem.persist("../outside/pwned.json"), escape);
    await assert.rejects(mem.persist(join(outside, "pwned.json")), escape);
    await assert.rejects(mem.persist("ok\0.json"), escape);
    assert.deepEqual((await readdir(outside)).sort(), ["secret.json"], "nothing was written outside");
    assert.equal(mem.factCount, 1, "nothing was loaded from outside");
    assert.deepEqual((await readdir(join(root, "ns"))), ["one.json"], "no temp files left behind");
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
