import { z } from "zod";
import { CarError } from "../errors.ts";
import { parseWith } from "../ir/parse.ts";
import type { MemCore } from "./core.ts";
import { FactKindSchema, NodeIdSchema, subjectKey, type ConclusionNode, type FactKind, type FactNode, type MemNode } from "./model.ts";

/** Size limits of what memory accepts (documented in docs/memgine.md). */
export const MEMORY_LIMITS = {
  /** Characters in a subject. */
  maxSubjectChars: 1024,
  /** Characters in a fact or conclusion body. */
  maxBodyChars: 65_536,
  /** Tags per fact. */
  maxTags: 64,
  /** Characters per tag and in a source. */
  maxTagChars: 256,
  /** Premises one conclusion may cite. */
  maxPremises: 256,
} as const;

export const SubjectSchema = z.string().min(1).max(MEMORY_LIMITS.maxSubjectChars).refine((s) => s.trim().length > 0, "subject is blank");
export const BodySchema = z.string().max(MEMORY_LIMITS.maxBodyChars);
export const TagsSchema = z.array(z.string().max(MEMORY_LIMITS.maxTagChars)).max(MEMORY_LIMITS.maxTags);
export const ConfidenceSchema = z.number().min(0).max(1);

/** Options of `addFact`. */
export const AddFactOptionsSchema = z.object({
  confidence: ConfidenceSchema.optional(),
  tags: TagsSchema.optional(),
  source: z.string().max(MEMORY_LIMITS.maxTagChars).nullable().optional(),
  /** Reuse an id: the fact with this id is replaced (its citing conclusions are invalidated). */
  id: NodeIdSchema.optional(),
});
export type AddFactOptions = z.infer<typeof AddFactOptionsSchema>;

const AddFactInput = z.object({ subject: SubjectSchema, body: BodySchema, kind: FactKindSchema, options: AddFactOptionsSchema });

/**
 * Adds a fact. A newer fact on the same subject supersedes the active one (a `supersedes` edge,
 * the old fact hidden from retrieval, conclusions citing it invalidated). Adding exactly the
 * same subject, body and kind again only merges confidence and tags and returns the same id.
 */
export function addFact(core: MemCore, subject: string, body: string, kind: FactKind = "pattern", options: AddFactOptions = {}): string {
  const input = parseWith(AddFactInput, { subject, body, kind, options }, "fact", "memgine");
  const opts = input.options;
  const { graph } = core;
  const existing = graph.activeFactFor(input.subject);

  if (existing && (opts.id === undefined || opts.id === existing.id) && existing.body === input.body && existing.kind === input.kind) {
    const merged: FactNode = {
      ...existing,
      confidence: Math.max(existing.confidence, opts.confidence ?? existing.confidence),
      tags: union(existing.tags, opts.tags ?? []),
      source: opts.source !== undefined ? opts.source : existing.source,
    };
    core.put(merged);
    return existing.id;
  }

  const byId = opts.id === undefined ? undefined : graph.get(opts.id);
  if (byId && byId.type !== "fact") throw new CarError("conflict", "memgine", `id ${opts.id} belongs to a ${byId.type}, not a fact`, { id: opts.id });
  const id = opts.id ?? core.newId("fact");
  const fact: FactNode = {
    id,
    type: "fact",
    subject: input.subject,
    body: input.body,
    kind: input.kind,
    confidence: opts.confidence ?? 1,
    tags: union([], opts.tags ?? []),
    source: opts.source ?? null,
    aliases: [],
    created_at: core.clock.now(),
    seq: core.nextSeq(),
  };
  if (byId) {
    // Same node, new content: what was concluded from the old content no longer holds.
    invalidateCiting(core, id, `premise ${id} changed`);
  }
  core.put(fact);
  if (existing && existing.id !== id) {
    core.put({ ...existing, superseded_by: id });
    core.link({ from: id, to: existing.id, kind: "supersedes", weight: 1 });
    invalidateCiting(core, existing.id, `premise ${existing.id} was superseded by ${id}`);
  }
  return id;
}

/** Options of `addConclusion`. */
export const AddConclusionInput = z.object({
  subject: SubjectSchema,
  body: BodySchema,
  premises: z.array(NodeIdSchema).min(1).max(MEMORY_LIMITS.maxPremises),
  confidence: ConfidenceSchema.optional(),
});

/**
 * Records a conclusion drawn from premise facts (or other conclusions), each cited by a
 * `cites_premise` edge. It is invalidated as soon as any premise changes.
 */
export function addConclusion(core: MemCore, subject: string, body: string, premises: string[], confidence?: number): string {
  const input = parseWith(AddConclusionInput, { subject, body, premises, confidence }, "conclusion", "memgine");
  for (const p of input.premises) {
    const n = core.graph.get(p);
    const usable = (n?.type === "fact" && n.superseded_by === undefined) || (n?.type === "conclusion" && n.valid);
    if (!usable) throw new CarError("invalid_input", "memgine", `premise ${p} is not an active fact or valid conclusion`, { premise: p });
  }
  const node: ConclusionNode = {
    id: core.newId("concl"),
    type: "conclusion",
    subject: input.subject,
    body: input.body,
    confidence: input.confidence ?? 1,
    valid: true,
    created_at: core.clock.now(),
    seq: core.nextSeq(),
  };
  core.put(node);
  for (const p of new Set(input.premises)) core.link({ from: node.id, to: p, kind: "cites_premise", weight: 1 });
  return node.id;
}

/** Marks every conclusion citing `id` (directly or through other conclusions) invalid. Returns how many. */
export function invalidateCiting(core: MemCore, id: string, reason: string): number {
  let count = 0;
  const queue = [id];
  const seen = new Set<string>(queue);
  while (queue.length > 0) {
    const premise = queue.shift()!;
    for (const e of core.graph.edgesTo(premise)) {
      if (e.kind !== "cites_premise" || seen.has(e.from)) continue;
      seen.add(e.from);
      const c = core.graph.get(e.from);
      if (c?.type !== "conclusion") continue;
      if (c.valid) {
        core.put({ ...c, valid: false, invalidated_reason: reason });
        count++;
      }
      queue.push(c.id);
    }
  }
  return count;
}

/** Deletes any node by id; conclusions citing it are invalidated first. Returns whether it existed. */
export function deleteNode(core: MemCore, id: string): boolean {
  const node: MemNode | undefined = core.graph.get(id);
  if (!node) return false;
  invalidateCiting(core, id, `premise ${id} was deleted`);
  return core.remove(id);
}

/** Number of active (not superseded) facts. */
export function factCount(core: MemCore): number {
  return core.graph.activeFactCount;
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

export { subjectKey };
