import { z } from "zod";

/** Event kinds, snake_case on the wire (reference §4.13). */
export const EVENT_KINDS = [
  "run_started", "run_cancellation_requested", "run_cancellation_result",
  "proposal_received", "proposal_completed", "proposal_resumed",
  "action_validated", "action_rejected", "action_executing", "action_succeeded", "action_failed", "action_skipped",
  "action_retrying", "action_deduplicated", "policy_violation",
  "state_changed", "state_snapshot", "state_committed", "state_rollback",
  "skill_distilled", "skill_evolved", "skill_deprecated", "evolution_triggered", "candidate_promoted", "candidate_rejected",
  "consolidated", "proactive_memory_maintained", "proactive_memory_intervention",
  "replan_attempted", "replan_proposal_received", "replan_rejected", "replan_exhausted",
  "gate_accepted", "gate_rejected", "model_fallback", "session_scope", "permission_decision", "approval_recorded",
  "branch_decision", "alternative_rejected", "inference_metered", "model_call_refused", "transaction_conflict",
  "admission_gate_decision", "tool_receipt_hallucination", "goal_evaluated", "turn_completed", "run_completed",
  "worker_started", "worker_starts_omitted",
] as const;
export const EventKindSchema = z.enum(EVENT_KINDS);
export type EventKind = z.infer<typeof EventKindSchema>;

/** One entry of the append-only event log. Hash fields appear only when chaining is enabled. */
export const EventSchema = z.object({
  kind: EventKindSchema,
  run_id: z.string().optional(),
  client_id: z.string().optional(),
  policy_session_id: z.string().optional(),
  action_id: z.string().optional(),
  proposal_id: z.string().optional(),
  data: z.record(z.string(), z.unknown()).default({}),
  timestamp: z.string(),
  prev_hash: z.string().optional(),
  hash: z.string().optional(),
});
export type Event = z.infer<typeof EventSchema>;

/** Filter for `events.query`. `since`/`until` are RFC 3339 timestamps (inclusive). */
export const EventQuerySchema = z.object({
  kinds: z.array(EventKindSchema).optional(),
  action_id: z.string().optional(),
  proposal_id: z.string().optional(),
  since: z.string().optional(),
  until: z.string().optional(),
  limit: z.number().int().nonnegative().optional(),
});
export type EventQuery = z.infer<typeof EventQuerySchema>;
