import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../src/engine/clock.ts";
import { SeededRandom } from "../../src/engine/random.ts";
import { CarError, ValidationError } from "../../src/errors.ts";
import { storageFileStore } from "../../src/memgine/file-store.ts";
import { callMemoryMethod, memoryMethods } from "../../src/memgine/methods.ts";
import { MemoryRegistry } from "../../src/memgine/registry.ts";
import { MapStorage } from "./helpers.ts";

// These call the method table the way a dispatcher would. The same methods over a real daemon
// connection are not tested here: the daemon is being built on another branch.

type Ctx = { memory_namespace?: string };

function setup(infer?: (p: string) => Promise<string>) {
  const storage = new MapStorage();
  const reg = new MemoryRegistry(storage, { clock: new ManualClock(), random: new SeededRandom(1), files: storageFileStore(storage), ...(infer ? { infer } : {}) });
  const table = memoryMethods<Ctx>((ctx) => reg.get(ctx));
  const call = async (name: string, params: unknown, ctx: Ctx = {}) => {
    const out = await callMemoryMethod(table, name, params, ctx);
    // Every answer matches the method's declared result schema.
    assert.ok(table[name]!.result.safeParse(out).success, `${name} result ${JSON.stringify(out)}`);
    return out;
  };
  return { table, call };
}

test("the method table covers the DESIGN §3 memory, skill and skills methods", () => {
  const { table } = setup();
  assert.deepEqual(Object.keys(table).sort(), [
    "memory.add_fact", "memory.build_context", "memory.build_context_fast", "memory.consolidate", "memory.delete",
    "memory.fact_count", "memory.load", "memory.persist", "memory.query",
    "skill.find", "skill.ingest", "skill.repair", "skill.report",
    "skills.distill", "skills.domains_needing_evolution", "skills.evolve", "skills.ingest_distilled", "skills.list",
  ]);
});

test("cookbook 06 traffic: add_fact answers the count, build_context a string naming the fact", async () => {
  const { call } = setup();
  assert.equal(await call("memory.add_fact", { subject: "lang", body: "Python", kind: "pattern" }), 1);
  const ctx = await call("memory.build_context", { query: "what language is this?" });
  assert.equal(typeof ctx, "string");
  assert.match(ctx as string, /lang: Python/);
  assert.equal(await call("memory.fact_count", undefined), 1);
});

test("memory.query rows have exactly the reference's snake_case fields", async () => {
  const { call } = setup();
  await call("memory.add_fact", { subject: "db", body: "postgres 16", tags: ["infra"], source: "docs" });
  await call("memory.add_fact", { subject: "cache", body: "redis", kind: "knowledge", confidence: 0.5, fact_id: "cache-1" });
  const rows = (await call("memory.query", { query: "postgres database" })) as Array<Record<string, unknown>>;
  assert.equal(rows.length, 1);
  assert.deepEqual(Object.keys(rows[0]!).sort(), ["body", "confidence", "fact_id", "kind", "source", "subject", "tags"]);
  assert.equal(rows[0]!.subject, "db");
  assert.equal(rows[0]!.kind, "pattern");
  assert.deepEqual(rows[0]!.tags, ["infra"]);
  assert.equal(rows[0]!.source, "ws-docs", "facts added over the daemon carry the ws- provenance prefix");
  const cache = (await call("memory.query", { query: "redis", k: 1 })) as Array<Record<string, unknown>>;
  assert.equal(cache[0]!.fact_id, "cache-1");
  assert.equal(cache[0]!.source, "ws-client");
  assert.deepEqual(await call("memory.delete", { id: "cache-1" }), { deleted: true, fact_count: 1 });
});

test("the memory_and_skills example flow over the method table", async () => {
  const { call } = setup();
  await call("memory.add_fact", { subject: "user", body: "prefers dark mode" });
  await call("memory.add_fact", { subject: "editor", body: "uses neovim" });
  const id = await call("skill.ingest", { name: "toggle_theme", code: "setTheme('dark')", persona: "desktop", task_keywords: ["theme", "dark mode"], description: "Switch the theme" });
  assert.equal(typeof id, "string");
  const found = (await call("skill.find", { persona: "desktop", task: "switch to dark theme" })) as Array<{ name: string; match_score: number }>;
  assert.equal(found[0]!.name, "toggle_theme");
  assert.ok(found[0]!.match_score > 0);
  assert.equal(await call("skill.find", { task: "order pizza" }), null, "no match answers null");
  let stats: unknown;
  for (const o of ["success", "success", "fail", "success"]) stats = await call("skill.report", { name: "toggle_theme", outcome: o });
  assert.deepEqual(stats && { s: (stats as { success_count: number }).success_count, f: (stats as { fail_count: number }).fail_count, d: (stats as { degraded: boolean }).degraded }, { s: 3, f: 1, d: false });
  const count = await call("memory.fact_count", {});
  assert.equal(await call("memory.persist", { path: "example.json" }), count);
  assert.equal(await call("memory.load", { path: "example.json" }), count, "loaded == fact_count");
  assert.equal(((await call("skills.list", {})) as unknown[]).length, 1);
  const report = (await call("memory.consolidate", undefined)) as { fact_count: number };
  assert.equal(report.fact_count, 2);
  assert.deepEqual(await call("skills.domains_needing_evolution", {}), []);
});

test("the multi_agent example: 2 distilled skills, 4+3 and 2+0 outcomes, domains_needing_evolution(0.6)", async () => {
  const { call } = setup();
  const skills = [
    { name: "research_step", code: "r()", domain: "research", trigger: { task_keywords: ["research"] } },
    { name: "write_step", code: "w()", scope: { domain: "writing" } },
  ];
  assert.deepEqual(await call("skills.ingest_distilled", { skills }), { ingested: 2 });
  for (const o of ["success", "success", "success", "success", "fail", "fail", "fail"]) await call("skill.report", { name: "research_step", outcome: o });
  for (const o of ["success", "success"]) await call("skill.report", { name: "write_step", outcome: o });
  assert.deepEqual(await call("skills.domains_needing_evolution", { threshold: 0.6 }), ["research"]);
  assert.deepEqual(((await call("skills.list", { domain: "writing" })) as Array<{ name: string }>).map((s) => s.name), ["write_step"]);
});

test("inference-backed skill methods: clear error without a model, results with one", async () => {
  const events = [{ kind: "action_failed", action_id: "a1", tool: "shell", data: { code: 1 } }];
  const none = setup();
  await assert.rejects(none.call("skills.distill", { events }), (e: unknown) => e instanceof CarError && e.code === "unsupported");
  const withModel = setup(async () => '[{"name": "retry_shell", "code": "retry()"}]');
  const out = (await withModel.call("skills.distill", { events })) as Array<{ name: string }>;
  assert.equal(out[0]!.name, "retry_shell");
  const evolved = (await withModel.call("skills.evolve", { events, domain: "ops" })) as Array<{ domain: string }>;
  assert.equal(evolved[0]!.domain, "ops");
  await withModel.call("skill.ingest", { name: "x", code: "y" });
  assert.equal(await withModel.call("skill.repair", { name: "x" }), '[{"name": "retry_shell", "code": "retry()"}]');
});

test("invalid params are a ValidationError naming the field; unknown methods are not_found", async () => {
  const { call } = setup();
  const invalid = (field: string) => (e: unknown) => e instanceof ValidationError && e.issues.some((i) => i.path === field);
  await assert.rejects(call("memory.add_fact", { subject: "x" }), invalid("body"));
  await assert.rejects(call("memory.add_fact", { subject: "x", body: "y", kind: "opinion" }), invalid("kind"));
  await assert.rejects(call("memory.query", { query: "x", k: -1 }), invalid("k"));
  await assert.rejects(call("memory.persist", { path: "" }), invalid("path"));
  await assert.rejects(call("skills.domains_needing_evolution", { threshold: 2 }), invalid("threshold"));
  await assert.rejects(call("memory.nope", {}), (e: unknown) => e instanceof CarError && e.code === "not_found");
  await assert.rejects(call("memory.persist", { path: "../x.json" }), (e: unknown) => e instanceof CarError && e.details?.reason === "dot_dot");
});

test("sessions with different namespaces see different graphs through the same table", async () => {
  const { call } = setup();
  await call("memory.add_fact", { subject: "k", body: "alpha-only" }, { memory_namespace: "alpha" });
  assert.deepEqual(await call("memory.query", { query: "alpha-only k" }, { memory_namespace: "beta" }), []);
  assert.deepEqual(await call("memory.query", { query: "alpha-only k" }), []);
  assert.equal(((await call("memory.query", { query: "alpha-only k" }, { memory_namespace: "alpha" })) as unknown[]).length, 1);
});
