import { z } from "zod";
import { JsonValueSchema } from "../ir/json.ts";
import { SkillStatsSchema } from "./model.ts";

/** Size limits of skills (documented in docs/memgine.md). */
export const SKILL_LIMITS = {
  /** Characters of a skill name. */
  maxNameChars: 256,
  /** Characters of skill code. */
  maxCodeChars: 262_144,
  /** Characters of description, when_to_apply, persona, url pattern, platform, domain. */
  maxTextChars: 8192,
  /** Task keywords per skill. */
  maxKeywords: 64,
  /** Trace events per distill/evolve call. */
  maxEvents: 1000,
  /** Characters of the event list quoted into a prompt; the rest is cut. */
  maxPromptEventChars: 32_768,
  /** Skills returned by one find. */
  maxResults: 100,
} as const;

const Text = z.string().max(SKILL_LIMITS.maxTextChars);

/** A skill as given to `skill.ingest`. */
export const SkillInputSchema = z.object({
  name: z.string().min(1).max(SKILL_LIMITS.maxNameChars),
  code: z.string().max(SKILL_LIMITS.maxCodeChars),
  platform: Text.default(""),
  persona: Text.default(""),
  url_pattern: Text.default(""),
  task_keywords: z.array(z.string().max(SKILL_LIMITS.maxNameChars)).max(SKILL_LIMITS.maxKeywords).default([]),
  description: Text.default(""),
  when_to_apply: Text.default(""),
  domain: Text.default("general"),
  source: Text.default("ingested"),
  /** Name of a skill this one replaces (that skill stops being found). */
  supersedes: z.string().max(SKILL_LIMITS.maxNameChars).optional(),
});
export type SkillInput = z.input<typeof SkillInputSchema>;

/** What `skill.find` looks for. At least one field should be set; none matches nothing. */
export const SkillQuerySchema = z.object({
  persona: Text.optional(),
  url: Text.optional(),
  task: Text.optional(),
  max_results: z.number().int().min(1).max(SKILL_LIMITS.maxResults).default(1),
});
export type SkillQuery = z.input<typeof SkillQuerySchema>;

/** One `skill.find` result. */
export const SkillMatchSchema = z.object({
  name: z.string(),
  code: z.string(),
  platform: z.string(),
  description: z.string(),
  stats: SkillStatsSchema,
  match_score: z.number(),
});
export type SkillMatch = z.infer<typeof SkillMatchSchema>;

/** One `skills.list` row. */
export const SkillMetaSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  when_to_apply: z.string(),
  domain: z.string(),
  platform: z.string(),
  persona: z.string(),
  url_pattern: z.string(),
  task_keywords: z.array(z.string()),
  source: z.string(),
  status: z.enum(["active", "provisional"]),
  incumbent: z.boolean(),
  version: z.number(),
  stats: SkillStatsSchema,
});
export type SkillMeta = z.infer<typeof SkillMetaSchema>;

/** An event of an execution trace, the raw material of distillation. */
export const TraceEventSchema = z.object({
  kind: z.enum(["action_succeeded", "action_failed"]),
  action_id: z.string().max(SKILL_LIMITS.maxNameChars),
  tool: z.string().max(SKILL_LIMITS.maxNameChars).nullable().optional(),
  data: JsonValueSchema.optional(),
  reward: z.number().optional(),
});
export type TraceEvent = z.infer<typeof TraceEventSchema>;

/** A skill proposed by the model from traces (reference §6.4). */
export const DistilledSkillSchema = z.object({
  name: z.string().min(1).max(SKILL_LIMITS.maxNameChars),
  description: Text.default(""),
  when_to_apply: Text.default(""),
  scope: z.object({ domain: Text.optional() }).optional(),
  source: Text.default("distilled"),
  domain: Text.optional(),
  trigger: z
    .object({
      persona: Text.optional(),
      url_pattern: Text.optional(),
      task_keywords: z.array(z.string().max(SKILL_LIMITS.maxNameChars)).max(SKILL_LIMITS.maxKeywords).optional(),
    })
    .optional(),
  code: z.string().max(SKILL_LIMITS.maxCodeChars),
});
export type DistilledSkill = z.infer<typeof DistilledSkillSchema>;

/** The SkillInput a distilled skill becomes when ingested. */
export function distilledToInput(s: DistilledSkill, domainOverride?: string): SkillInput {
  return {
    name: s.name,
    code: s.code,
    description: s.description,
    when_to_apply: s.when_to_apply,
    domain: domainOverride ?? s.domain ?? s.scope?.domain ?? "general",
    source: s.source,
    persona: s.trigger?.persona ?? "",
    url_pattern: s.trigger?.url_pattern ?? "",
    task_keywords: s.trigger?.task_keywords ?? [],
  };
}
