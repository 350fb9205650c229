import { z } from "zod";
import { ConsolidationReportSchema } from "./consolidate.ts";
import { BodySchema, ConfidenceSchema, SubjectSchema, TagsSchema, MEMORY_LIMITS } from "./facts.ts";
import { MAX_MEMORY_PATH_CHARS } from "./file-store.ts";
import { MAX_QUERY_CHARS, MAX_QUERY_K } from "./memgine.ts";
import { FactKindSchema, NodeIdSchema, SkillStatsSchema } from "./model.ts";
import { DistilledSkillSchema, SKILL_LIMITS, SkillInputSchema, SkillMatchSchema, SkillMetaSchema, SkillQuerySchema, TraceEventSchema } from "./skill-schemas.ts";

// Wire shapes (snake_case, reference §1.7 and §6) of the memory.*, skill.* and skills.* methods.
// Params are objects; a daemon passes `{}` when a request has no params.

const Query = z.string().max(MAX_QUERY_CHARS);
const Window = z.number().int().positive().max(100_000_000).optional();
const Path = z.string().min(1).max(MAX_MEMORY_PATH_CHARS);
const Empty = z.object({});

export const MemoryAddFactParams = z.object({
  subject: SubjectSchema,
  body: BodySchema,
  kind: FactKindSchema.default("pattern"),
  confidence: ConfidenceSchema.optional(),
  tags: TagsSchema.optional(),
  source: z.string().max(MEMORY_LIMITS.maxTagChars).optional(),
  fact_id: NodeIdSchema.optional(),
});
/** `memory.add_fact` answers the fact count. */
export const FactCountResult = z.number().int().nonnegative();

export const MemoryQueryParams = z.object({ query: Query, k: z.number().int().min(0).max(MAX_QUERY_K).default(5) });
/** One `memory.query` row; `confidence` is the hit's activation in [0, 1] (reference §6.2). */
export const MemoryQueryRow = z.object({
  subject: z.string(),
  body: z.string(),
  kind: z.string(),
  confidence: z.number(),
  fact_id: z.string(),
  tags: z.array(z.string()),
  source: z.string().nullable(),
});
export type MemoryQueryRowT = z.infer<typeof MemoryQueryRow>;
export const MemoryQueryResult = z.array(MemoryQueryRow);

export const MemoryBuildContextParams = z.object({ query: Query, model_context_window: Window });
export const MemoryBuildContextFastParams = z.object({ query: Query.optional(), model_context_window: Window });
export const ContextResult = z.string();

export const MemoryPathParams = z.object({ path: Path });
export const MemoryDeleteParams = z.object({ id: NodeIdSchema });
export const MemoryDeleteResult = z.object({ deleted: z.boolean(), fact_count: z.number().int().nonnegative() });
export const MemoryConsolidateParams = Empty;
export const MemoryConsolidateResult = ConsolidationReportSchema;
export const MemoryFactCountParams = Empty;

export const SkillIngestParams = SkillInputSchema;
/** `skill.ingest` answers the new skill's node id. */
export const SkillIngestResult = z.string();
export const SkillFindParams = SkillQuerySchema;
/** `skill.find` answers null when nothing matches. */
export const SkillFindResult = z.array(SkillMatchSchema).nullable();
export const SkillReportParams = z.object({ name: z.string().min(1).max(SKILL_LIMITS.maxNameChars), outcome: z.string().min(1).max(64) });
export const SkillReportResult = SkillStatsSchema;
export const SkillRepairParams = z.object({ name: z.string().min(1).max(SKILL_LIMITS.maxNameChars) });
export const SkillRepairResult = z.string().nullable();

export const SkillsListParams = z.object({ domain: z.string().max(SKILL_LIMITS.maxTextChars).optional() });
export const SkillsListResult = z.array(SkillMetaSchema);
export const SkillsDistillParams = z.object({ events: z.array(TraceEventSchema).max(SKILL_LIMITS.maxEvents) });
export const DistilledSkillsResult = z.array(DistilledSkillSchema);
export const SkillsIngestDistilledParams = z.object({ skills: z.array(DistilledSkillSchema).max(SKILL_LIMITS.maxEvents) });
export const SkillsIngestDistilledResult = z.object({ ingested: z.number().int().nonnegative() });
export const SkillsEvolveParams = z.object({ events: z.array(TraceEventSchema).max(SKILL_LIMITS.maxEvents), domain: z.string().min(1).max(SKILL_LIMITS.maxTextChars) });
export const SkillsDomainsParams = z.object({ threshold: z.number().min(0).max(1).default(0.6) });
export const SkillsDomainsResult = z.array(z.string());
