import { z } from "zod";

/** Kinds of fact on the wire (reference §6.1). `pattern` is the default. */
export const FACT_KINDS = ["pattern", "constraint", "knowledge", "procedural"] as const;
export const FactKindSchema = z.enum(FACT_KINDS);
export type FactKind = z.infer<typeof FactKindSchema>;

/** Kinds of node in the memory graph. */
export const NODE_KINDS = ["fact", "skill", "conclusion", "conversation", "identity", "environment"] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** Kinds of edge in the memory graph. */
export const EDGE_KINDS = ["supersedes", "depends_on", "related_to", "triggers", "temporal_next", "cites_premise"] as const;
export const EdgeKindSchema = z.enum(EDGE_KINDS);
export type EdgeKind = z.infer<typeof EdgeKindSchema>;

/** Ids given by callers: printable, no separators used in storage keys. */
export const NodeIdSchema = z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/, "ids are 1-128 characters of A-Z a-z 0-9 . _ : @ -");

const Base = {
  id: NodeIdSchema,
  /** Creation time, ms since the epoch, from the injected Clock. */
  created_at: z.number(),
  /** Creation order within the graph; ties on `created_at` are broken by it. */
  seq: z.number().int().nonnegative(),
};

export const FactNodeSchema = z.object({
  ...Base,
  type: z.literal("fact"),
  subject: z.string(),
  body: z.string(),
  kind: FactKindSchema,
  confidence: z.number().min(0).max(1),
  tags: z.array(z.string()),
  source: z.string().nullable(),
  /** Subjects of duplicates merged into this fact by `consolidate()`; searchable like the subject. */
  aliases: z.array(z.string()).default([]),
  /** Id of the newer fact that replaced this one; superseded facts are never retrieved. */
  superseded_by: NodeIdSchema.optional(),
});
export type FactNode = z.infer<typeof FactNodeSchema>;

export const ConclusionNodeSchema = z.object({
  ...Base,
  type: z.literal("conclusion"),
  subject: z.string(),
  body: z.string(),
  confidence: z.number().min(0).max(1),
  /** False once a cited premise changed; invalid conclusions are never retrieved. */
  valid: z.boolean(),
  invalidated_reason: z.string().optional(),
});
export type ConclusionNode = z.infer<typeof ConclusionNodeSchema>;

export const ConversationNodeSchema = z.object({
  ...Base,
  type: z.literal("conversation"),
  role: z.string(),
  text: z.string(),
});
export type ConversationNode = z.infer<typeof ConversationNodeSchema>;

/** Identity and environment entries are keyed by subject; setting a subject again replaces it. */
export const IdentityNodeSchema = z.object({ ...Base, type: z.literal("identity"), subject: z.string(), body: z.string() });
export type IdentityNode = z.infer<typeof IdentityNodeSchema>;
export const EnvironmentNodeSchema = z.object({ ...Base, type: z.literal("environment"), subject: z.string(), body: z.string() });
export type EnvironmentNode = z.infer<typeof EnvironmentNodeSchema>;

/** Outcome counters of a skill. Degraded when `fail_count > success_count + 2`. */
export const SkillStatsSchema = z.object({
  success_count: z.number().int().nonnegative(),
  fail_count: z.number().int().nonnegative(),
  degraded: z.boolean(),
  success_rate: z.number().nullable(),
  last_outcome: z.string().nullable(),
  last_outcome_at: z.number().nullable(),
});
export type SkillStats = z.infer<typeof SkillStatsSchema>;

export const SkillNodeSchema = z.object({
  ...Base,
  type: z.literal("skill"),
  name: z.string(),
  code: z.string(),
  platform: z.string(),
  persona: z.string(),
  url_pattern: z.string(),
  task_keywords: z.array(z.string()),
  description: z.string(),
  when_to_apply: z.string(),
  domain: z.string(),
  source: z.string(),
  version: z.number().int().positive(),
  status: z.enum(["active", "provisional"]),
  stats: SkillStatsSchema,
  superseded_by: NodeIdSchema.optional(),
});
export type SkillNode = z.infer<typeof SkillNodeSchema>;

export const MemNodeSchema = z.discriminatedUnion("type", [
  FactNodeSchema, ConclusionNodeSchema, ConversationNodeSchema, IdentityNodeSchema, EnvironmentNodeSchema, SkillNodeSchema,
]);
export type MemNode = z.infer<typeof MemNodeSchema>;

export const MemEdgeSchema = z.object({
  from: NodeIdSchema,
  to: NodeIdSchema,
  kind: EdgeKindSchema,
  /** Strength in [0, 1]; spreading activation multiplies by it. */
  weight: z.number().min(0).max(1),
});
export type MemEdge = z.infer<typeof MemEdgeSchema>;

/** The key that decides supersession: case and runs of white space do not matter. */
export function subjectKey(subject: string): string {
  return subject.normalize("NFKC").trim().replace(/\s+/g, " ").toLowerCase();
}

/** Whether a fact can be retrieved (not replaced by a newer one). */
export function isActiveFact(n: MemNode): n is FactNode {
  return n.type === "fact" && n.superseded_by === undefined;
}
