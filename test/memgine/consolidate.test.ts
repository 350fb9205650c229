import { test } from "node:test";
import assert from "node:assert/strict";
import { testMemgine } from "./helpers.ts";

test("consolidate merges duplicates, prunes superseded facts and invalid conclusions, and reports it", async () => {
  const mem = testMemgine();
  const keep = await mem.addFact("db", "Postgres  16", "pattern", { confidence: 0.9, tags: ["a"] });
  const dup = await mem.addFact("database", "postgres 16", "pattern", { confidence: 0.6, tags: ["b"] });
  await mem.addFact("database", "postgres 16", "constraint"); // same body, other kind: supersedes dup, not merged
  const c = await mem.addConclusion("driver", "use pg driver", [keep]);
  await mem.addFact("x", "1");
  await mem.addFact("x", "2");
  const gone = await mem.addConclusion("y", "from x", [mem.facts().find((f) => f.subject === "x" && !f.superseded_by)!.id]);
  await mem.addFact("x", "3");
  await mem.ingestSkill({ name: "s", code: "v1" });
  await mem.ingestSkill({ name: "s", code: "v2" });
  const before = mem.factCount;

  const report = await mem.consolidate();
  assert.deepEqual(
    { merged: report.merged, pruned: report.pruned, conclusions_pruned: report.conclusions_pruned },
    { merged: 0, pruned: 4, conclusions_pruned: 1 },
  );
  assert.equal(report.fact_count, before);
  assert.equal(mem.get(dup), undefined, "superseded fact pruned");
  assert.equal(mem.get(gone), undefined);
  assert.equal(mem.listSkills()[0]!.version, 2);

  // Now two live facts with the same body and kind under different subjects: merged.
  const twin = await mem.addFact("primary db", "postgres 16", "pattern", { confidence: 0.95, tags: ["c"] });
  const r2 = await mem.consolidate();
  assert.equal(r2.merged, 1);
  const survivor = mem.get(twin);
  assert.equal(mem.get(keep), undefined);
  assert.ok(survivor?.type === "fact");
  assert.deepEqual(survivor.aliases, ["db"]);
  assert.deepEqual(survivor.tags.sort(), ["a", "c"]);
  const concl = mem.get(c);
  assert.ok(concl?.type === "conclusion" && concl.valid, "a conclusion citing a merged duplicate stays valid");
  assert.ok(mem.snapshot().edges.some((e) => e.from === c && e.to === twin && e.kind === "cites_premise"));
  assert.equal((await mem.query("db", 1))[0]?.node.id, twin, "the merged subject is still searchable");
  assert.deepEqual(await mem.consolidate().then((r) => [r.merged, r.pruned, r.conclusions_pruned]), [0, 0, 0], "idempotent");
});
