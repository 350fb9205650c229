import { z } from "zod";
import type { MemCore } from "./core.ts";
import type { FactNode } from "./model.ts";
import { isActiveFact, subjectKey } from "./model.ts";

/** What `consolidate()` did (wire shape of `memory.consolidate`). */
export const ConsolidationReportSchema = z.object({
  /** Duplicate facts (same kind, same body up to case and spacing) folded into one. */
  merged: z.number(),
  /** Superseded facts and skills removed. */
  pruned: z.number(),
  /** Invalidated conclusions removed. */
  conclusions_pruned: z.number(),
  fact_count: z.number(),
  node_count: z.number(),
  edge_count: z.number(),
  /** Provisional-skill gate results; always 0 until provisional skills exist here. */
  candidates_promoted: z.number(),
  candidates_rejected: z.number(),
});
export type ConsolidationReport = z.infer<typeof ConsolidationReportSchema>;

const bodyKey = (f: FactNode) => `${f.kind}\u0000${f.body.normalize("NFKC").trim().replace(/\s+/g, " ").toLowerCase()}`;

/**
 * "Dream" maintenance: merges duplicate facts (the keeper takes the duplicate's subject as an
 * alias, its tags, the higher confidence and its edges), removes superseded facts and skills and
 * invalidated conclusions, and compacts the index.
 */
export function consolidate(core: MemCore): ConsolidationReport {
  const { graph } = core;
  let merged = 0;
  let pruned = 0;
  let conclusionsPruned = 0;

  const keepers = new Map<string, FactNode>();
  for (const f of [...graph.nodesOf("fact")]) {
    if (!isActiveFact(f)) continue;
    const key = bodyKey(f);
    const keeper = keepers.get(key);
    if (!keeper) {
      keepers.set(key, f);
      continue;
    }
    // Higher confidence wins; on a tie the older fact stays.
    const [keep, drop] = f.confidence > keeper.confidence ? [f, keeper] : [keeper, f];
    const aliases = new Set([...keep.aliases, ...drop.aliases]);
    if (subjectKey(drop.subject) !== subjectKey(keep.subject)) aliases.add(drop.subject);
    const next: FactNode = { ...keep, aliases: [...aliases], tags: [...new Set([...keep.tags, ...drop.tags])], confidence: Math.max(keep.confidence, drop.confidence) };
    // Same content, so conclusions citing the duplicate still hold: re-point, do not invalidate.
    for (const e of [...graph.edgesTo(drop.id)]) if (e.from !== keep.id) core.link({ ...e, to: keep.id });
    for (const e of [...graph.edgesFrom(drop.id)]) if (e.to !== keep.id && e.kind !== "supersedes") core.link({ ...e, from: keep.id });
    core.remove(drop.id);
    core.put(next);
    keepers.set(key, next);
    merged++;
  }

  for (const f of [...graph.nodesOf("fact")]) if (f.superseded_by !== undefined && core.remove(f.id)) pruned++;
  for (const s of [...graph.nodesOf("skill")]) if (s.superseded_by !== undefined && core.remove(s.id)) pruned++;
  for (const c of [...graph.nodesOf("conclusion")]) if (!c.valid && core.remove(c.id)) conclusionsPruned++;

  if (core.retriever.index.slots > core.retriever.index.size) core.retriever.index.compactSlots();
  return {
    merged,
    pruned,
    conclusions_pruned: conclusionsPruned,
    fact_count: graph.activeFactCount,
    node_count: graph.size,
    edge_count: graph.edgeCount,
    candidates_promoted: 0,
    candidates_rejected: 0,
  };
}
