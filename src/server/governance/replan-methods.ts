import { z } from "zod";
import type { ReplanConfig, ReplanContext } from "../../engine/replan.ts";
import type { ActionProposal } from "../../ir/proposal.ts";
import type { ProposalResult } from "../../ir/results.ts";
import { method, type MethodContext, type ServerMethodTable } from "../context.ts";

/**
 * `replan.set_config` params (reference §4.8). Fields left out take their defaults (the whole
 * config is replaced). `callback` (car-server addition) makes the daemon ask the client for each
 * new proposal with the server→client request `replan.propose`; without it nothing replans,
 * because over the wire there is no other source of new proposals.
 */
export const ReplanSetConfigParams = z.object({
  max_replans: z.number().int().nonnegative().default(0),
  delay_ms: z.number().int().nonnegative().default(0),
  verify_before_execute: z.boolean().default(false),
  replan_on_rejected: z.boolean().default(false),
  callback: z.boolean().default(false),
});
export type ReplanSetConfigParams = z.input<typeof ReplanSetConfigParams>;

/** `replan.get_config` result (car-server addition): the session's config and whether `replan.propose` is on. */
export type ReplanConfigResult = ReplanConfig & { callback: boolean };

/**
 * Params of the server→client request `replan.propose` (car-server addition): the failure
 * context of reference §4.8. The client answers with a new ActionProposal (give it an `id`), or
 * null to stop replanning; an error answer stops it too (`replan_rejected`).
 */
export interface ReplanProposeParams {
  session_id: string;
  /** The proposal that failed (its state effects are rolled back). */
  proposal: ActionProposal;
  result: ProposalResult;
  failed_actions: ReplanContext["failed_actions"];
  /** 1-based. */
  attempt: number;
  max_replans: number;
  /** The state after the rollback. */
  state: Record<string, unknown>;
  /** Why the previous replan was refused by `verify_before_execute`. */
  verify_issues?: ReplanContext["verify_issues"];
}

const CALLBACK_KEY = "governance:replan-callback";

/** Asks the client for a new proposal; bounded by the tool callback timeout and the session. */
function clientReplanner(ctx: MethodContext) {
  const { session, server } = ctx;
  return (rc: ReplanContext): Promise<unknown> =>
    session.call(
      "replan.propose",
      {
        session_id: session.id,
        proposal: rc.proposal,
        result: rc.result,
        failed_actions: rc.failed_actions,
        attempt: rc.attempt,
        max_replans: rc.max_replans,
        state: rc.state,
        ...(rc.verify_issues ? { verify_issues: rc.verify_issues } : {}),
      } satisfies ReplanProposeParams,
      { timeoutMs: server.settings.toolTimeoutMs },
    );
}

/** `replan.set_config` (→ null) and `replan.get_config`. */
export const replanMethods: ServerMethodTable = {
  "replan.set_config": method(ReplanSetConfigParams, (p, ctx): null => {
    const { callback, ...config } = p;
    const rt = ctx.session.runtime;
    rt.setReplanConfig(config);
    rt.setReplanCallback(callback ? clientReplanner(ctx) : undefined);
    ctx.session.data.set(CALLBACK_KEY, callback);
    return null;
  }),
  "replan.get_config": method(z.object({}), (_p, { session }): ReplanConfigResult => ({
    // Merging nothing returns the config in force.
    ...session.runtime.setReplanConfig({}),
    callback: session.data.get(CALLBACK_KEY) === true,
  })),
};
