import { z } from "zod";
import { ActionProposalSchema } from "../../ir/proposal.ts";
import type { ProposalResult } from "../../ir/results.ts";
import { markParsedProposal } from "../../engine/parsed-proposals.ts";
import { method, type ServerMethodTable } from "../context.ts";
import { TenantId } from "./state.ts";
import { refuseTenantKeys, scopeProposalToTenant, unscopeResult } from "./tenant-scope.ts";

export const ProposalSubmitParams = z.object({
  proposal: ActionProposalSchema,
  /** A policy scope from `session.policy.open`: its policies apply on top of the global ones. The connection's own session id means none. */
  session_id: z.string().optional(),
  /** `tenantId` puts every state key the proposal names under `tenant:<id>:`; `callerId` and `claims` are accepted and unused. */
  scope: z.object({ callerId: z.string().optional(), tenantId: TenantId, claims: z.record(z.string(), z.unknown()).optional() }).optional(),
});
export type ProposalSubmitParams = z.input<typeof ProposalSubmitParams>;

/** Settings the `proposal.submit` deadline is computed from. */
export interface DeadlineDefaults {
  handlerTimeoutMs: number;
  toolTimeoutMs: number;
  deadlineGraceMs: number;
}

/**
 * The `proposal.submit` deadline (reference §1.4): Σ over actions of (`timeout_ms` or the tool
 * callback timeout) × attempts (`max_retries + 1` with `failure_behavior: "retry"`, else 1), plus
 * the grace, never below the default handler deadline.
 */
export function proposalDeadlineMs(actions: ReadonlyArray<{ timeout_ms?: number | undefined; failure_behavior?: string | undefined; max_retries?: number | undefined }>, d: DeadlineDefaults): number {
  let sum = 0;
  for (const a of actions) {
    const attempts = a.failure_behavior === "retry" ? (a.max_retries ?? 3) + 1 : 1;
    sum += (a.timeout_ms ?? d.toolTimeoutMs) * attempts;
  }
  return Math.max(d.handlerTimeoutMs, sum + d.deadlineGraceMs);
}

/** `proposal.submit`: executes a proposal in the session's runtime; tools run via `tools.execute`. */
export const proposalMethods: ServerMethodTable = {
  "proposal.submit": method(
    ProposalSubmitParams,
    async (p, { session, signal }): Promise<ProposalResult> => {
      const policyScope = p.session_id !== undefined && p.session_id !== session.id ? p.session_id : undefined;
      const tenant = p.scope?.tenantId;
      if (tenant === undefined) refuseTenantKeys(p.proposal);
      // The params parse just validated the proposal: the runtime need not parse it again.
      if (tenant === undefined) markParsedProposal(p.proposal);
      const proposal = tenant === undefined ? p.proposal : scopeProposalToTenant(p.proposal, tenant);
      const result = await session.runtime.executeProposal(proposal, { signal, ...(policyScope !== undefined ? { policyScope } : {}) });
      return tenant === undefined ? result : unscopeResult(result, tenant);
    },
    { deadlineMs: (p, d) => proposalDeadlineMs(p.proposal.actions, d) },
  ),
};
