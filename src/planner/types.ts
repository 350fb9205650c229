import { z } from "zod";

/** Planner weights and budgets (reference §5). Defaults are the named constants in `DEFAULT_PLANNER_CONFIG`. */
export const PlannerConfigSchema = z.object({
  /** Weight of cost_efficiency against success likelihood: score = success·(1−w) + cost_efficiency·w. */
  cost_weight: z.number().min(0).max(1).default(0.2),
  /** Actions a proposal may use before cost_efficiency drops (budget / count beyond it). */
  action_budget: z.number().int().nonnegative().default(10),
  /** Tool calls a proposal may use before cost_efficiency drops. */
  tool_call_budget: z.number().int().nonnegative().default(5),
  /** Validity lost per write conflict. */
  conflict_penalty: z.number().min(0).max(1).default(0.1),
  /** Validity lost per verify warning. */
  warning_penalty: z.number().min(0).max(1).default(0.05),
  /** How much historical tool success moves the score: score·(1 − w + w·confidence). */
  feedback_weight: z.number().min(0).max(1).default(0.5),
  /** Estimated tokens (serialized JSON length ÷ 4) before the token term drops. */
  token_budget: z.number().int().nonnegative().default(2000),
  /** Weight of the token term inside cost_efficiency. */
  token_weight: z.number().min(0).max(1).default(0.1),
  /** Weight of a caller-supplied outcome score (e.g. from past runs of similar plans): score·(1−w) + outcome·w. */
  outcome_weight: z.number().min(0).max(1).default(0.3),
});
export type PlannerConfig = z.infer<typeof PlannerConfigSchema>;
export type PlannerConfigInput = z.input<typeof PlannerConfigSchema>;

/** The planner's defaults. */
export const DEFAULT_PLANNER_CONFIG: PlannerConfig = PlannerConfigSchema.parse({});

/** One candidate's score and the numbers behind it (reference §5). */
export const ScoredProposalSchema = z.object({
  /** Position of the candidate in the input list. */
  index: z.number().int().nonnegative(),
  score: z.number().min(0).max(1),
  /** 0 when verify found an error; else 1 minus warning and conflict penalties. */
  validity: z.number().min(0).max(1),
  cost_efficiency: z.number().min(0).max(1),
  error_count: z.number().int().nonnegative(),
  warning_count: z.number().int().nonnegative(),
  action_count: z.number().int().nonnegative(),
  tool_call_count: z.number().int().nonnegative(),
  /** Number of execution levels (fewer = more parallel). */
  parallelism_levels: z.number().int().nonnegative(),
  valid: z.boolean(),
  /** Keys the proposal writes (sorted). */
  state_keys_written: z.array(z.string()),
  has_write_conflicts: z.boolean(),
  /** Mean historical success rate of the tools called; null without feedback. */
  historical_confidence: z.number().min(0).max(1).nullable(),
  /** Serialized JSON length ÷ 4, rounded up. */
  token_estimate: z.number().int().nonnegative(),
  /** score ÷ token_estimate. */
  quality_per_token: z.number().nonnegative(),
});
export type ScoredProposal = z.infer<typeof ScoredProposalSchema>;
