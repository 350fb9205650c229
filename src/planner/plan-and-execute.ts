import type { Event } from "../ir/event.ts";
import type { ProposalResult } from "../ir/results.ts";
import { ProposalRejectedError, messageOf } from "../errors.ts";
import type { VerifyIssue, VerifyOptions, VerifyResult } from "../verify/types.ts";
import { ToolFeedback } from "./feedback.ts";
import { evaluateCandidates, type RankOptions } from "./rank.ts";
import type { ScoredProposal } from "./types.ts";

/** What planAndExecute needs from a runtime. */
export interface PlanRuntime {
  verifyProposal(proposal: unknown, options?: VerifyOptions): VerifyResult;
  executeProposal(proposal: unknown, options?: { signal?: AbortSignal }): Promise<ProposalResult>;
  events: { all(): Event[] };
}

/** Settings of `planAndExecute`. */
export interface PlanAndExecuteOptions extends Omit<RankOptions, "tools" | "initialState" | "verifier"> {
  /** Most candidates executed (default: every valid one). */
  maxAttempts?: number;
  /** Whether a run counts as success (default: no action failed or was rejected, nothing rolled back). */
  isSuccess?: (result: ProposalResult) => boolean;
  signal?: AbortSignal;
}

/** One candidate tried (or re-verified and passed over). */
export interface PlanAttempt {
  index: number;
  status: "succeeded" | "failed" | "invalid" | "error";
  result?: ProposalResult;
  /** Verify errors when the candidate became invalid after an earlier attempt changed the state. */
  issues?: VerifyIssue[];
  /** Why execution threw (e.g. the runtime is halted). */
  error?: string;
}

/** The outcome: which candidate succeeded (if any), and every attempt in order. */
export interface PlanAndExecuteResult {
  /** Index (in the input list) of the candidate whose run succeeded, or null. */
  executed: number | null;
  /** That candidate's result, or the last attempt's result when all failed (null if nothing ran). */
  result: ProposalResult | null;
  ranking: ScoredProposal[];
  attempts: PlanAttempt[];
}

/** Default success test: no failed or rejected action and nothing rolled back. */
export function runSucceeded(result: ProposalResult): boolean {
  return result.results.every((r) => r.status !== "failed" && r.status !== "rejected" && !r.rolled_back);
}

/**
 * Ranks the candidates with the runtime's `verifyProposal` (its tools, state and verify defaults)
 * and its recorded tool outcomes (its event log, unless `feedback` is given), then executes the best valid one; on failure it falls back to
 * the next valid one, re-verifying it first against the state as it now is.
 */
export async function planAndExecute(rt: PlanRuntime, candidates: readonly unknown[], options: PlanAndExecuteOptions = {}): Promise<PlanAndExecuteResult> {
  const { maxAttempts = Infinity, isSuccess = runSucceeded, signal, ...rank } = options;
  const feedback = rank.feedback ?? ToolFeedback.fromEvents(rt.events.all());
  const verifyOptions: VerifyOptions = {};
  for (const k of ["maxActions", "policyCheck", "capabilities", "repeatedCallThreshold", "maxSchemaErrorsPerAction"] as const) {
    if (rank[k] !== undefined) (verifyOptions as Record<string, unknown>)[k] = rank[k];
  }
  const verifier = (c: unknown) => rt.verifyProposal(c, verifyOptions);
  const evaluated = evaluateCandidates(candidates, { ...rank, feedback, verifier });
  const ranking = evaluated.map((e) => e.scored);
  const attempts: PlanAttempt[] = [];
  let last: ProposalResult | null = null;
  for (const e of evaluated) {
    if (!e.scored.valid) continue;
    if (attempts.filter((a) => a.status !== "invalid").length >= maxAttempts || signal?.aborted) break;
    const candidate = candidates[e.scored.index];
    if (attempts.length > 0) {
      const again = verifier(candidate);
      if (!again.valid) {
        attempts.push({ index: e.scored.index, status: "invalid", issues: again.issues.filter((i) => i.severity === "error") });
        continue;
      }
    }
    try {
      const result = await rt.executeProposal(candidate, signal ? { signal } : {});
      last = result;
      const ok = isSuccess(result);
      attempts.push({ index: e.scored.index, status: ok ? "succeeded" : "failed", result });
      if (ok) return { executed: e.scored.index, result, ranking, attempts };
    } catch (err) {
      attempts.push({ index: e.scored.index, status: "error", error: messageOf(err) });
      if (err instanceof ProposalRejectedError && err.reason === "halted") break;
    }
  }
  return { executed: null, result: last, ranking, attempts };
}
