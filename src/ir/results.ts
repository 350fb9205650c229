import { z } from "zod";

export const ActionStatusSchema = z.enum(["proposed", "validated", "rejected", "executing", "succeeded", "failed", "skipped"]);
export type ActionStatus = z.infer<typeof ActionStatusSchema>;

/** The outcome of one action (reference §2.5). */
export const ActionResultSchema = z.object({
  action_id: z.string(),
  status: ActionStatusSchema,
  output: z.unknown().default(null),
  error: z.string().nullable().default(null),
  state_changes: z.record(z.string(), z.unknown()).default({}),
  duration_ms: z.number().nonnegative(),
  timestamp: z.string(),
  /** Present (true) only on actions that succeeded before an abort restored the state. */
  rolled_back: z.literal(true).optional(),
  /** Present (true) only when a tool raised a fail-stop error. */
  terminal: z.literal(true).optional(),
});
export type ActionResult = z.infer<typeof ActionResultSchema>;

/** Counters of one proposal run, counted exactly as the reference (§2.5). */
export const CostSummarySchema = z.object({
  /** Tool invocations dispatched (every attempt counts; cache hits and dedups do not). */
  tool_calls: z.number().int().nonnegative(),
  /** Actions that ran to an outcome: succeeded + failed. */
  actions_executed: z.number().int().nonnegative(),
  /** Actions blocked before running by validation, policy, capability or budget. */
  actions_rejected: z.number().int().nonnegative(),
  /** Actions never attempted (after an abort, a cancel, a failed dependency or an exhausted budget). */
  actions_skipped: z.number().int().nonnegative(),
  total_duration_ms: z.number().nonnegative(),
  retries: z.number().int().nonnegative(),
});
export type CostSummary = z.infer<typeof CostSummarySchema>;

export const ProposalResultSchema = z.object({
  proposal_id: z.string(),
  results: z.array(ActionResultSchema),
  cost: CostSummarySchema,
});
export type ProposalResult = z.infer<typeof ProposalResultSchema>;
