import { z } from "zod";
import { CarError } from "../../errors.ts";
import { ActionProposalSchema, type ActionProposalInput } from "../../ir/proposal.ts";
import { ToolFeedback } from "../../planner/feedback.ts";
import { rankProposals } from "../../planner/rank.ts";
import { PlannerConfigSchema, type ScoredProposal } from "../../planner/types.ts";
import { optimizeWithReport, type OptimizeReport } from "../../verify/optimize.ts";
import { equivalent, simulateDetailed, type SimulateOptions, type SimulationResult } from "../../verify/simulate.ts";
import type { PolicyCheck, VerifyResult } from "../../verify/types.ts";
import { method, type MethodContext, type ServerMethodTable } from "../context.ts";
import { policyScopeOf } from "./policy-methods.ts";

const State = z.record(z.string(), z.unknown());
/** A policy scope (`session.policy.open`) whose policies the checks include besides the global ones (car-server addition). */
const ScopeId = z.string().min(1).optional();

export const VerifyParams = z.object({
  proposal: ActionProposalSchema,
  /** Default: the session's current state. */
  initial_state: State.optional(),
  session_id: ScopeId,
  /** Most actions allowed (default 1,000). */
  max_actions: z.number().int().positive().optional(),
});
export type VerifyParams = z.input<typeof VerifyParams>;

export const SimulateParams = z.object({
  proposal: ActionProposalSchema,
  initial_state: State.optional(),
  session_id: ScopeId,
  /** Answer `{state, blocked, unknown_keys}` instead of the final state alone. */
  detailed: z.boolean().default(false),
});
export type SimulateParams = z.input<typeof SimulateParams>;

export const EquivalentParams = z.object({
  p1: ActionProposalSchema,
  p2: ActionProposalSchema,
  /** Probe states (default `[{}, {x: 1, y: 2}]`). */
  test_states: z.array(State).min(1).optional(),
  session_id: ScopeId,
});
export type EquivalentParams = z.input<typeof EquivalentParams>;

/** Checked as an ActionProposal but passed on as sent, so `optimize` answers with the client's own fields. */
const RawProposal = z.unknown().superRefine((v, ctx) => {
  const res = ActionProposalSchema.safeParse(v);
  if (!res.success) for (const i of res.error.issues) ctx.addIssue({ code: "custom", message: i.message, path: i.path });
});

export const OptimizeParams = z.object({
  proposal: RawProposal,
  /** Keys available before the proposal runs (default: the session's current state). */
  initial_state: State.optional(),
  /** Answer `{proposal, pruned, levels_before, levels_after}` instead of the proposal alone. */
  detailed: z.boolean().default(false),
});
export type OptimizeParams = z.input<typeof OptimizeParams>;

export const PlanRankParams = z.object({
  /** Candidate proposals; one that is not a proposal at all scores 0 rather than failing the request. */
  candidates: z.array(z.unknown()),
  config: PlannerConfigSchema.optional(),
  /** Per-candidate outcome scores in [0, 1], same order as the candidates (null = none). */
  outcomes: z.array(z.number().min(0).max(1).nullable()).optional(),
  /** Tool success rates, e.g. `{search: 0.9}`. */
  feedback: z.record(z.string(), z.number().min(0).max(1)).optional(),
  /** Derive tool success rates from this session's event log (ignored when `feedback` is given). */
  feedback_from_events: z.boolean().default(false),
  initial_state: State.optional(),
  session_id: ScopeId,
});
export type PlanRankParams = z.input<typeof PlanRankParams>;

export type { OptimizeReport, ScoredProposal, SimulationResult, VerifyResult };

/**
 * What the session's guards would reject, as pure checks: its policies (global layer plus the
 * named scope, as a dry run that spends no rate window) and its capability set.
 */
function sessionGates(ctx: MethodContext, sessionId: string | undefined): { policyCheck: PolicyCheck } & SimulateOptions {
  const rt = ctx.session.runtime;
  const scope = policyScopeOf(sessionId, ctx);
  if (scope !== undefined && !rt.policies.hasScope(scope)) throw new CarError("not_found", "policies", `no open policy scope "${scope}"`);
  const caps = rt.capabilitySet();
  const policyCheck: PolicyCheck = (action, { state }) => rt.policies.evaluate(action, action.parameters, state, scope, { dryRun: true }).map((v) => ({ name: v.name, reason: v.reason }));
  return { policyCheck, ...(caps ? { capabilities: caps } : {}) };
}

const stateOr = (ctx: MethodContext, s: Record<string, unknown> | undefined) => s ?? ctx.session.runtime.state.snapshot();

/** `verify`, `simulate`, `equivalent`, `optimize` and `plan.rank` against the session's tools, state, policies and capabilities. */
export const verifyMethods: ServerMethodTable = {
  verify: method(VerifyParams, (p, ctx): VerifyResult =>
    ctx.session.runtime.verifyProposal(p.proposal, {
      initialState: stateOr(ctx, p.initial_state),
      ...sessionGates(ctx, p.session_id),
      ...(p.max_actions !== undefined ? { maxActions: p.max_actions } : {}),
    }),
  ),
  simulate: method(SimulateParams, (p, ctx): SimulationResult | Record<string, unknown> => {
    const res = simulateDetailed(p.proposal, stateOr(ctx, p.initial_state), sessionGates(ctx, p.session_id));
    return p.detailed ? res : res.state;
  }),
  equivalent: method(EquivalentParams, (p, ctx): boolean => equivalent(p.p1, p.p2, p.test_states, sessionGates(ctx, p.session_id))),
  optimize: method(OptimizeParams, (p, ctx): OptimizeReport | ActionProposalInput => {
    const res = optimizeWithReport(p.proposal, { initialState: stateOr(ctx, p.initial_state) });
    return p.detailed ? res : res.proposal;
  }),
  "plan.rank": method(PlanRankParams, (p, ctx): ScoredProposal[] => {
    const rt = ctx.session.runtime;
    const verifyOptions = { initialState: stateOr(ctx, p.initial_state), ...sessionGates(ctx, p.session_id) };
    const feedback = p.feedback ?? (p.feedback_from_events ? ToolFeedback.fromEvents(rt.events.all()) : undefined);
    return rankProposals(p.candidates, {
      tools: rt.toolSchemas(),
      verifier: (c) => rt.verifyProposal(c, verifyOptions),
      ...(p.config ? { config: p.config } : {}),
      ...(p.outcomes ? { outcomes: p.outcomes.map((o) => o ?? undefined) } : {}),
      ...(feedback ? { feedback } : {}),
    });
  }),
};
