import { test } from "node:test";
import assert from "node:assert/strict";
import { CarError } from "../../src/errors.ts";
import { testMemgine } from "./helpers.ts";

test("a newer fact on the same subject supersedes the older one", async () => {
  const mem = testMemgine();
  const py = await mem.addFact("lang", "Python");
  assert.equal(mem.factCount, 1);
  const rust = await mem.addFact("  LANG ", "Rust", "pattern", { tags: ["x"] });
  assert.notEqual(rust, py);
  assert.equal(mem.factCount, 1, "the superseded fact no longer counts");

  const old = mem.get(py);
  assert.equal(old?.type === "fact" && old.superseded_by, rust);
  const hits = await mem.query("lang", 5);
  assert.deepEqual(hits.map((h) => h.node.id), [rust], "superseded facts are never retrieved");
  assert.deepEqual(await mem.query("python", 5), []);
  const snap = mem.snapshot();
  assert.ok(snap.edges.some((e) => e.from === rust && e.to === py && e.kind === "supersedes"));
  assert.ok(!(await mem.buildContext("lang")).includes("Python"));

  // Exactly the same fact again is not a new version: same id, merged tags and confidence.
  const again = await mem.addFact("lang", "Rust", "pattern", { tags: ["y"], confidence: 0.5 });
  assert.equal(again, rust);
  const merged = mem.get(rust);
  assert.deepEqual(merged?.type === "fact" && merged.tags, ["x", "y"]);
  assert.equal(merged?.type === "fact" && merged.confidence, 1);

  // Different kind on the same subject is a change, so it supersedes.
  const constraint = await mem.addFact("lang", "Rust", "constraint");
  assert.notEqual(constraint, rust);
  assert.equal(mem.factCount, 1);
});

test("conclusions citing a changed premise are invalidated, transitively", async () => {
  const mem = testMemgine();
  const host = await mem.addFact("db host", "db runs on host alpha");
  const port = await mem.addFact("db port", "db listens on 5432");
  const c1 = await mem.addConclusion("db url", "connect to alpha:5432", [host, port]);
  const c2 = await mem.addConclusion("db health check", "probe alpha:5432 every minute", [c1]);
  const other = await mem.addConclusion("port only", "firewall must open 5432", [port]);
  assert.equal((await mem.query("alpha 5432 connect", 1))[0]?.node.id, c1, "valid conclusions are retrievable");

  await mem.addFact("db host", "db runs on host beta");
  const n1 = mem.get(c1);
  const n2 = mem.get(c2);
  assert.equal(n1?.type === "conclusion" && n1.valid, false);
  assert.match(n1?.type === "conclusion" ? (n1.invalidated_reason ?? "") : "", /superseded/);
  assert.equal(n2?.type === "conclusion" && n2.valid, false, "cascade through a conclusion citing a conclusion");
  assert.equal(mem.get(other)?.type === "conclusion" && (mem.get(other) as { valid: boolean }).valid, true, "unrelated conclusions stay valid");
  assert.ok(!(await mem.query("connect alpha", 5)).some((h) => h.node.id === c1), "invalid conclusions are not retrieved");
  assert.match(await mem.buildContext("db"), /## Known Unknowns\n[\s\S]*Needs re-deriving[\s\S]*db url/);

  // Deleting a premise invalidates too; replacing a fact by id does as well.
  await mem.delete(port);
  assert.equal((mem.get(other) as { valid: boolean }).valid, false);
  const a = await mem.addFact("timezone", "UTC");
  const c3 = await mem.addConclusion("cron", "cron runs in UTC", [a]);
  await mem.addFact("time zone of servers", "CET", "pattern", { id: a });
  assert.equal((mem.get(c3) as { valid: boolean }).valid, false);
});

test("delete removes a fact everywhere and reports whether it existed", async () => {
  const mem = testMemgine();
  const id = await mem.addFact("editor", "vim");
  await mem.addFact("shell", "zsh");
  assert.equal(await mem.delete(id), true);
  assert.equal(await mem.delete(id), false);
  assert.equal(mem.get(id), undefined);
  assert.equal(mem.factCount, 1);
  assert.deepEqual(await mem.query("vim editor", 3), []);
});

test("bad fact input is a typed error, not a crash", async () => {
  const mem = testMemgine();
  const bad = async (fn: () => Promise<unknown>, re: RegExp) =>
    assert.rejects(fn(), (e: unknown) => e instanceof CarError && e.code === "invalid_input" && re.test(e.message));
  await bad(() => mem.addFact("", "x"), /subject/);
  await bad(() => mem.addFact("   ", "x"), /blank/);
  await bad(() => mem.addFact("s", "x", "opinion" as never), /kind/);
  await bad(() => mem.addFact("s", "x", "pattern", { confidence: 2 }), /confidence/);
  await bad(() => mem.addFact("s", "x".repeat(70_000)), /body/);
  await bad(() => mem.addFact("s", "x", "pattern", { id: "has space" }), /id/);
  await bad(() => mem.addConclusion("c", "b", ["nope"]), /premise nope/);
  await assert.rejects(mem.link("a", "b", "related_to"), (e: unknown) => e instanceof CarError && e.code === "not_found");
  assert.equal(mem.factCount, 0);
});

test("identity and environment entries are keyed by subject; turns are chained in time", async () => {
  const mem = testMemgine();
  const a = await mem.setIdentity("name", "car-bot");
  const b = await mem.setIdentity("Name", "car-agent");
  assert.equal(a, b);
  await mem.setEnvironment("os", "linux");
  const t1 = await mem.addTurn("user", "hello");
  const t2 = await mem.addTurn("assistant", "hi");
  assert.ok(mem.snapshot().edges.some((e) => e.from === t1 && e.to === t2 && e.kind === "temporal_next"));
  const ctx = mem.buildContextFast();
  assert.match(ctx, /- Name: car-agent/);
  assert.doesNotMatch(ctx, /car-bot/);
});
