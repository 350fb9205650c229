import { z } from "zod";
import type { ActionProposal } from "../ir/proposal.ts";
import type { ProposalResult } from "../ir/results.ts";
import type { ToolSchema } from "../ir/tool-schema.ts";
import { messageOf } from "../errors.ts";
import { parseWith } from "../ir/parse.ts";
import { sleep, type Clock } from "./clock.ts";
import type { EventInit } from "./event-log.ts";
import type { RunOutcome } from "./execute.ts";
import type { StateSnapshot } from "./state-store.ts";

/** Errors of canceled actions start with this (reference `CANCELED_PREFIX`). */
export const CANCELED_PREFIX = "canceled:";

/** Replan settings (reference §4.8). `max_replans: 0` (the default) disables replanning. */
export const ReplanConfigSchema = z.object({
  max_replans: z.number().int().nonnegative().default(0),
  /** Wait before asking the callback, on the injected clock. */
  delay_ms: z.number().int().nonnegative().default(0),
  /** Check each new proposal with the verifier; one with errors is rejected without running. */
  verify_before_execute: z.boolean().default(false),
  /** Also replan when validation, policy, capability or budget rejections stopped the proposal. */
  replan_on_rejected: z.boolean().default(false),
});
export type ReplanConfig = z.infer<typeof ReplanConfigSchema>;
export type ReplanConfigInput = z.input<typeof ReplanConfigSchema>;

/** Parses replan settings (a ValidationError names each bad field). */
export function parseReplanConfig(input: unknown): ReplanConfig {
  return parseWith(ReplanConfigSchema, input, "replan config", "replan");
}

/** One action that failed or was rejected, as the replan callback sees it. */
export interface FailedActionSummary {
  action_id: string;
  tool?: string;
  error: string;
  status: "failed" | "rejected";
  /** The action's parameters as proposed (given to the callback only, never logged). */
  params?: Record<string, unknown>;
}

/** What the replan callback gets. */
export interface ReplanContext {
  /** The proposal that failed (its state effects are already rolled back). */
  proposal: ActionProposal;
  result: ProposalResult;
  failed_actions: FailedActionSummary[];
  /** 1-based number of this replan. */
  attempt: number;
  max_replans: number;
  /** The state after rollback. */
  state: StateSnapshot;
  /** Why the previous replan was refused, when verification refused it. */
  verify_issues?: ReplanIssue[];
}

/**
 * Returns a new proposal (an ActionProposalInput; validated like any submitted proposal), or
 * null/undefined to give up.
 */
export type ReplanCallback = (ctx: ReplanContext) => unknown;

export interface ReplanIssue {
  action_id?: string | null;
  severity: "error" | "warning" | "info";
  message: string;
}

/** A verifier's answer; `valid` is false iff some issue is an error. */
export interface Verdict {
  valid: boolean;
  issues: ReplanIssue[];
}

/** Checks a proposal before it runs (plug in the full `verify` from src/verify). */
export type Verifier = (proposal: unknown, ctx: { state: StateSnapshot; tools: ToolSchema[] }) => Verdict | Promise<Verdict>;

/** What the replan loop needs from its runtime. */
export interface ReplanDeps {
  config: ReplanConfig;
  callback: ReplanCallback;
  verifier: Verifier;
  clock: Clock;
  /** One protected run (no replanning). */
  run(input: unknown): Promise<RunOutcome>;
  /** Parses a proposal the way a run would (for the failure context). */
  parse(input: unknown): ActionProposal;
  emit(e: EventInit): void;
  snapshot(): StateSnapshot;
  /** Puts the state back to `snap`, logged so replay sees it. */
  restore(snap: StateSnapshot): void;
  tools(): ToolSchema[];
  signal?: AbortSignal;
}

/** Whether an outcome calls for a replan under `config`. */
export function needsReplan(outcome: RunOutcome, config: ReplanConfig): boolean {
  if (outcome.canceled || outcome.terminal) return false;
  if (outcome.abortedBy !== undefined) {
    const by = outcome.result.results.find((r) => r.action_id === outcome.abortedBy);
    if (by?.status === "failed") return true;
  }
  return config.replan_on_rejected && outcome.result.results.some((r) => r.status === "rejected");
}

/**
 * Runs a proposal; on abort (and, with `replan_on_rejected`, on rejections) rolls back, asks the
 * callback for a new proposal with the failure context, optionally verifies it, and runs it —
 * at most `max_replans` times. Returns the last run's outcome.
 */
export async function runWithReplan(deps: ReplanDeps, input: unknown): Promise<RunOutcome & { replans: number }> {
  const { config } = deps;
  let before = deps.snapshot();
  let outcome = await deps.run(input);
  let attempts = 0;
  let verifyIssues: ReplanIssue[] | undefined;
  let failedInput = input;
  while (needsReplan(outcome, config)) {
    const pid = outcome.result.proposal_id;
    if (attempts >= config.max_replans) {
      deps.emit({ kind: "replan_exhausted", proposal_id: pid, data: { attempts, max_replans: config.max_replans } });
      break;
    }
    deps.restore(before);
    attempts++;
    const proposal = deps.parse(failedInput);
    const failed = summarize(proposal, outcome.result);
    deps.emit({ kind: "replan_attempted", proposal_id: pid, data: { attempt: attempts, failed_actions: failed.map(({ params: _p, ...f }) => f) } });
    if (config.delay_ms > 0) {
      try {
        await sleep(deps.clock, config.delay_ms, deps.signal);
      } catch {
        break;
      }
    }
    let next: unknown;
    try {
      const ctx: ReplanContext = { proposal, result: outcome.result, failed_actions: failed, attempt: attempts, max_replans: config.max_replans, state: deps.snapshot(), ...(verifyIssues ? { verify_issues: verifyIssues } : {}) };
      next = await deps.callback(ctx);
    } catch (err) {
      deps.emit({ kind: "replan_rejected", proposal_id: pid, data: { attempt: attempts, reason: `callback failed: ${messageOf(err)}` } });
      break;
    }
    if (next === null || next === undefined) {
      deps.emit({ kind: "replan_rejected", proposal_id: pid, data: { attempt: attempts, reason: "callback returned no proposal" } });
      break;
    }
    deps.emit({ kind: "replan_proposal_received", proposal_id: pid, data: { attempt: attempts, action_count: actionCount(next) } });
    verifyIssues = undefined;
    if (config.verify_before_execute) {
      const verdict = await deps.verifier(next, { state: deps.snapshot(), tools: deps.tools() });
      if (!verdict.valid) {
        verifyIssues = verdict.issues;
        deps.emit({ kind: "replan_rejected", proposal_id: pid, data: { attempt: attempts, reason: "verification failed", issues: verdict.issues.map((i) => ({ ...i })) } });
        continue; // asks again (the refused plan counts as an attempt)
      }
    }
    before = deps.snapshot();
    try {
      outcome = await deps.run(next);
      failedInput = next;
    } catch (err) {
      // A replan that is not even a valid proposal is refused like one that failed verification.
      verifyIssues = [{ severity: "error", message: messageOf(err) }];
      deps.emit({ kind: "replan_rejected", proposal_id: pid, data: { attempt: attempts, reason: `invalid proposal: ${messageOf(err)}` } });
    }
  }
  return { ...outcome, replans: attempts };
}

function actionCount(p: unknown): number {
  const actions = (p as { actions?: unknown }).actions;
  return Array.isArray(actions) ? actions.length : 0;
}

function summarize(proposal: ActionProposal, result: ProposalResult): FailedActionSummary[] {
  const byId = new Map(proposal.actions.map((a) => [a.id, a]));
  const out: FailedActionSummary[] = [];
  for (const r of result.results) {
    if (r.status !== "failed" && r.status !== "rejected") continue;
    const a = byId.get(r.action_id);
    out.push({ action_id: r.action_id, status: r.status, error: r.error ?? r.status, ...(a?.tool ? { tool: a.tool } : {}), ...(a ? { params: a.parameters } : {}) });
  }
  return out;
}
