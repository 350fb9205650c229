import type { ActionProposal } from "../ir/proposal.ts";
import type { ActionResult, CostSummary } from "../ir/results.ts";
import type { Clock } from "./clock.ts";
import type { EventLog } from "./event-log.ts";
import type { ExecutionContext, RunOutcome } from "./execute.ts";
import type { Violation } from "./hooks.ts";

/**
 * Rejects every action of a proposal refused at admission (nothing runs). The violations are
 * recorded on `proposal_completed` so that replay refuses the proposal the same way.
 */
export function rejectAtAdmission(deps: { events: EventLog; clock: Clock; tags?: ExecutionContext["eventTags"] }, proposal: ActionProposal, violations: Violation[]): RunOutcome {
  const now = deps.clock.now();
  const tags = deps.tags ?? {};
  const error = `rejected: ${violations.map((v) => `${v.name}: ${v.reason}`).join("; ")}`;
  const recorded = violations.map((v) => ({ source: v.source, name: v.name, reason: v.reason }));
  const results: ActionResult[] = proposal.actions.map((a) => {
    deps.events.append({ ...tags, kind: "action_rejected", proposal_id: proposal.id, action_id: a.id, data: { reason: error, violations: recorded, admission: true, duration_ms: 0 } });
    return { action_id: a.id, status: "rejected", output: null, error, state_changes: {}, duration_ms: 0, timestamp: new Date(now).toISOString() };
  });
  const cost: CostSummary = { tool_calls: 0, actions_executed: 0, actions_rejected: results.length, actions_skipped: 0, total_duration_ms: 0, retries: 0 };
  deps.events.append({ ...tags, kind: "proposal_completed", proposal_id: proposal.id, data: { status: "rejected", cost, violations: recorded } });
  return { result: { proposal_id: proposal.id, results, cost }, abortedBy: undefined, canceled: false, terminal: false, rejections: proposal.actions.map((a) => ({ action_id: a.id, violations })) };
}
