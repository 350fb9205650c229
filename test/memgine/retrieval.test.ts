import { test } from "node:test";
import assert from "node:assert/strict";
import { CarError } from "../../src/errors.ts";
import { testMemgine } from "./helpers.ts";

const CORPUS: Array<[string, string]> = [
  ["deploy target", "Production deploys go to the Frankfurt Kubernetes cluster via Argo CD"],
  ["database", "The primary database is PostgreSQL 16 with pgbouncer connection pooling"],
  ["database backups", "Nightly backups of the database are written to S3 and kept 30 days"],
  ["frontend framework", "The web frontend is built with React and Vite"],
  ["test runner", "Unit tests run with the node test runner through tsx"],
  ["code style", "Files use kebab-case names and two-space indentation"],
  ["on-call", "The on-call rotation changes every Monday at 09:00 CET"],
  ["logging", "Services log JSON lines to stdout, collected by Vector into Loki"],
  ["feature flags", "Feature flags are managed in Unleash; stale flags are removed monthly"],
  ["api versioning", "Public HTTP APIs are versioned in the path, for example /v2/orders"],
  ["secrets", "Secrets live in Vault and are injected as environment variables at start"],
  ["caching", "Redis caches session tokens for fifteen minutes"],
  ["queue", "Background jobs are queued in RabbitMQ and processed by workers"],
  ["monitoring", "Prometheus scrapes metrics every 15 seconds; Grafana shows dashboards"],
  ["release cadence", "Releases are cut every second Thursday after the test suite passes"],
  ["cat", "The office cat is called Miso and sleeps on the server rack"],
];

async function corpus() {
  const mem = testMemgine();
  const ids = new Map<string, string>();
  for (const [s, b] of CORPUS) ids.set(s, await mem.addFact(s, b));
  return { mem, ids };
}

test("the relevant fact is ranked first on a crafted corpus (stemming, stop words, subject weight)", async () => {
  const { mem } = await corpus();
  const expectations: Array<[string, string]> = [
    ["where do we deploy to production?", "deploy target"],
    ["database backup retention", "database backups"],
    ["which database and pooling do we use", "database"],
    ["how are the tests running", "test runner"],
    ["who is on call this week", "on-call"],
    ["what does the cat do", "cat"],
    ["grafana dashboards for metrics", "monitoring"],
    ["queueing background job processing", "queue"],
  ];
  for (const [q, subject] of expectations) {
    const hits = await mem.query(q, 3);
    assert.equal(hits[0]?.node.subject, subject, `query ${JSON.stringify(q)} → ${hits.map((h) => h.node.subject).join(", ")}`);
    assert.ok(hits[0]!.score > 0 && hits[0]!.score <= 1);
  }
  assert.deepEqual(await mem.query("the of and is", 5), [], "stop words alone match nothing");
  assert.deepEqual(await mem.query("database", 0), []);
});

test("spreading activation pulls in linked facts that share no words with the query", async () => {
  const { mem, ids } = await corpus();
  const before = (await mem.query("postgresql", 5)).map((h) => h.node.subject);
  assert.deepEqual(before, ["database"]);
  await mem.link(ids.get("database")!, ids.get("database backups")!, "related_to");
  await mem.link(ids.get("database")!, ids.get("secrets")!, "depends_on", 0.5);
  const after = await mem.query("postgresql", 5);
  assert.deepEqual(after.map((h) => h.node.subject), ["database", "database backups", "secrets"]);
  assert.equal(after[1]!.lexical, 0);
  assert.ok(after[1]!.spread > after[2]!.spread, "edge weight scales activation");
});

test("confidence breaks ties between equally matching facts", async () => {
  const mem = testMemgine();
  await mem.addFact("colour A", "the button colour is teal", "pattern", { confidence: 0.3 });
  await mem.addFact("colour B", "the button colour is teal", "pattern", { confidence: 0.9 });
  const hits = await mem.query("button colour", 2);
  assert.deepEqual(hits.map((h) => h.node.subject), ["colour B", "colour A"]);
});

test("an attached embedder adds vector similarity: a synonym query finds a fact with no shared word", async () => {
  const { mem } = await corpus();
  // A toy embedding: one dimension per concept, synonyms share a dimension.
  const concepts = [["cat", "kitten", "feline", "miso"], ["database", "postgresql", "sql"], ["deploy", "production", "rollout"]];
  let calls = 0;
  mem.setEmbedder(async (texts) => {
    calls++;
    return texts.map((t) => concepts.map((words) => (words.some((w) => t.toLowerCase().includes(w)) ? 1 : 0.01)));
  });
  const hits = await mem.query("feline", 3);
  assert.equal(hits[0]!.node.subject, "cat");
  assert.equal(hits[0]!.lexical, 0);
  assert.ok(hits[0]!.vector! > 0.9);
  assert.ok(calls >= 2, "texts embedded in a batch, then the query");
  mem.setEmbedder(undefined);
  assert.deepEqual(await mem.query("feline", 3), [], "without the embedder only words count");
});

test("a failing or inconsistent embedder gives a clear CarError", async () => {
  const { mem } = await corpus();
  mem.setEmbedder(async () => {
    throw new Error("model offline");
  });
  await assert.rejects(mem.query("cat", 1), (e: unknown) => e instanceof CarError && /embedder failed: model offline/.test(e.message));
  mem.setEmbedder(async (texts) => texts.map(() => [1, 2]).slice(1));
  await assert.rejects(mem.query("cat", 1), (e: unknown) => e instanceof CarError && /vectors for/.test(e.message));
});

test("bad query input is refused with a typed error", async () => {
  const mem = testMemgine();
  await assert.rejects(mem.query("x", -1), (e: unknown) => e instanceof CarError && e.code === "invalid_input");
  await assert.rejects(mem.query("x".repeat(9000), 1), (e: unknown) => e instanceof CarError && e.code === "invalid_input");
});

test("abbreviated subjects match the long word at a discount (language → lang)", async () => {
  const mem = testMemgine();
  await mem.addFact("lang", "Python");
  await mem.addFact("language school", "classes on Tuesdays");
  await mem.addFact("cat", "the office cat");
  const hits = await mem.query("what language is this?", 5);
  assert.deepEqual(hits.map((h) => h.node.subject), ["language school", "lang"], "the exact word ranks above the abbreviation");
  assert.deepEqual(await mem.query("category", 5), [], "too short a prefix share does not count (cat ≠ category)");
});
