import type { ToolSchemaInput } from "../ir/tool-schema.ts";
import { messageOf } from "../errors.ts";
import { effectiveWrites } from "../verify/checks/conflicts.ts";
import { prepareForVerify } from "../verify/prepare.ts";
import type { VerifyOptions, VerifyResult } from "../verify/types.ts";
import { verifyPrepared } from "../verify/verify.ts";
import { ToolFeedback } from "./feedback.ts";
import { PlannerConfigSchema, type PlannerConfig, type PlannerConfigInput, type ScoredProposal } from "./types.ts";

/** Settings of `rankProposals`. */
export interface RankOptions extends Omit<VerifyOptions, "tools"> {
  tools?: readonly ToolSchemaInput[];
  config?: PlannerConfigInput;
  /** Historical tool outcomes (a ToolFeedback, or plain rates such as `{ search: 0.9 }`). */
  feedback?: ToolFeedback | Readonly<Record<string, number>>;
  /** Per-candidate outcome scores in [0, 1] (same order as the candidates), blended with `outcome_weight`. */
  outcomes?: ReadonlyArray<number | undefined>;
  /** Verifies a candidate in place of `verify` with these options (e.g. a runtime's `verifyProposal`). */
  verifier?: (candidate: unknown) => VerifyResult;
}

/** A scored candidate with its verify result (undefined when the candidate is not a proposal at all). */
export interface Evaluated {
  scored: ScoredProposal;
  verify: VerifyResult | undefined;
  /** Why the candidate could not be parsed. */
  parseError?: string;
}

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
/** 1 within budget, budget/count beyond it. */
const withinBudget = (count: number, budget: number) => (count <= budget ? 1 : budget / count);

/**
 * Scores one candidate (reference §5) with verify + the forward walk, no inference:
 * validity = 0 with any verify error, else 1 − warning_penalty·warnings − conflict_penalty·conflicts;
 * cost_efficiency = (1 − token_weight)·mean(action budget term, tool-call budget term, parallelism)
 *   + token_weight·token budget term, where parallelism = (actions − levels)/(actions − 1);
 * score = validity·(1 − cost_weight) + cost_efficiency·cost_weight, then with feedback
 * ×(1 − feedback_weight + feedback_weight·confidence), then with an outcome
 * ·(1 − outcome_weight) + outcome·outcome_weight.
 */
export function evaluateCandidate(candidate: unknown, index: number, options: RankOptions = {}, config?: PlannerConfig): Evaluated {
  const cfg = config ?? PlannerConfigSchema.parse(options.config ?? {});
  const token_estimate = Math.ceil((safeStringify(candidate)?.length ?? 0) / 4);
  let prep;
  try {
    prep = prepareForVerify(candidate);
  } catch (err) {
    const scored: ScoredProposal = {
      index, score: 0, validity: 0, cost_efficiency: 0, error_count: 1, warning_count: 0, action_count: 0, tool_call_count: 0,
      parallelism_levels: 0, valid: false, state_keys_written: [], has_write_conflicts: false, historical_confidence: null, token_estimate, quality_per_token: 0,
    };
    return { scored, verify: undefined, parseError: messageOf(err) };
  }
  const v = options.verifier ? options.verifier(candidate) : verifyPrepared(prep, options);
  const errors = v.issues.filter((i) => i.severity === "error").length;
  const warnings = v.issues.filter((i) => i.severity === "warning").length;
  const validity = errors > 0 ? 0 : clamp01(1 - cfg.warning_penalty * warnings - cfg.conflict_penalty * v.conflicts.length);

  const actions = prep.actions;
  const tools = actions.filter((a) => a.type === "tool_call").map((a) => a.tool!);
  const n = actions.length;
  const levels = v.execution_levels.length;
  const parallelism = n <= 1 ? 1 : clamp01((n - levels) / (n - 1));
  const budgetTerms = (withinBudget(n, cfg.action_budget) + withinBudget(tools.length, cfg.tool_call_budget) + parallelism) / 3;
  const cost_efficiency = clamp01((1 - cfg.token_weight) * budgetTerms + cfg.token_weight * withinBudget(token_estimate, cfg.token_budget));

  let score = validity * (1 - cfg.cost_weight) + cost_efficiency * cfg.cost_weight;
  let historical_confidence: number | null = null;
  if (options.feedback !== undefined) {
    const fb = options.feedback instanceof ToolFeedback ? options.feedback : ToolFeedback.fromRates(options.feedback);
    historical_confidence = tools.length === 0 ? 1 : tools.reduce((s, t) => s + fb.rate(t), 0) / tools.length;
    score *= 1 - cfg.feedback_weight + cfg.feedback_weight * historical_confidence;
  }
  const outcome = options.outcomes?.[index];
  if (outcome !== undefined) score = score * (1 - cfg.outcome_weight) + clamp01(outcome) * cfg.outcome_weight;
  score = clamp01(score);

  const written = new Set<string>();
  for (const a of actions) for (const k of effectiveWrites(a)) written.add(k);
  const scored: ScoredProposal = {
    index, score, validity, cost_efficiency, error_count: errors, warning_count: warnings, action_count: n, tool_call_count: tools.length,
    parallelism_levels: levels, valid: v.valid, state_keys_written: [...written].sort(), has_write_conflicts: v.conflicts.length > 0,
    historical_confidence, token_estimate, quality_per_token: score / Math.max(1, token_estimate),
  };
  return { scored, verify: v };
}

/** Evaluates every candidate and orders them best first (score descending; ties keep input order). */
export function evaluateCandidates(candidates: readonly unknown[], options: RankOptions = {}): Evaluated[] {
  const cfg = PlannerConfigSchema.parse(options.config ?? {});
  const out = candidates.map((c, i) => evaluateCandidate(c, i, options, cfg));
  return out.sort((a, b) => b.scored.score - a.scored.score || a.scored.index - b.scored.index);
}

/** Scores and ranks candidate proposals, best first (reference §5 `rank`). Malformed candidates score 0. */
export function rankProposals(candidates: readonly unknown[], options: RankOptions = {}): ScoredProposal[] {
  return evaluateCandidates(candidates, options).map((e) => e.scored);
}

/** The best valid candidate's score entry, or undefined when none is valid (reference `pick_best`). */
export function pickBest(candidates: readonly unknown[], options: RankOptions = {}): ScoredProposal | undefined {
  return rankProposals(candidates, options).find((s) => s.valid);
}

function safeStringify(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined;
  }
}
