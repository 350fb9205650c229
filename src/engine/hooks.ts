import type { Action } from "../ir/action.ts";
import type { ActionProposal } from "../ir/proposal.ts";
import type { StateStore } from "./state-store.ts";
import type { ToolCall } from "./tools.ts";

/** One reason an action may not run. `name` is stable (e.g. `deny_tool:shell`); `reason` never echoes matched values. */
export interface Violation {
  /** Which mechanism refused: policy, capability, budget, schema, … */
  source: string;
  name: string;
  reason: string;
}

/** What guards see about the run in progress. */
export interface GuardContext {
  proposal: ActionProposal;
  state: StateStore;
  /** Tool calls dispatched so far in this proposal. */
  toolCalls: number;
  /** Actions run so far in this proposal. */
  actionsExecuted: number;
  /** Milliseconds since the proposal started. */
  elapsedMs: number;
}

/**
 * Checks every action right before it runs (policies, capabilities, budgets). All guards are
 * asked and all violations collected; any violation rejects the action.
 */
export interface ActionGuard {
  check(action: Action, parameters: Record<string, unknown>, ctx: GuardContext): Violation[] | Promise<Violation[]>;
}

/** Checks a whole proposal before anything runs; any violation rejects every action. */
export interface ProposalGuard {
  admit(proposal: ActionProposal, ctx: { state: StateStore }): Violation[] | Promise<Violation[]>;
}

/**
 * Wraps tool invocation (rate limits, result caches, idempotency). Call `next()` to invoke the
 * tool; return without calling it to answer from elsewhere.
 */
export type ToolMiddleware = (call: ToolCall, action: Action, next: (call: ToolCall) => Promise<unknown>) => Promise<unknown>;
