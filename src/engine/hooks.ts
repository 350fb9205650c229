import type { Action } from "../ir/action.ts";
import type { ActionProposal } from "../ir/proposal.ts";
import type { EventInit } from "./event-log.ts";
import type { StateStore } from "./state-store.ts";
import type { ToolCall } from "./tools.ts";

/** One reason an action may not run. `name` is stable (e.g. `deny_tool:shell`); `reason` never echoes matched values. */
export interface Violation {
  /** Which mechanism refused: policy, capability, budget, schema, … */
  source: string;
  name: string;
  reason: string;
  /**
   * What the violation does to the action: `reject` (default) marks it `rejected` (and aborts
   * unless its failure_behavior is `skip`); `skip` marks it `skipped` and the run goes on
   * (an exhausted budget).
   */
  effect?: "reject" | "skip";
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
  /** The policy scope (`session.policy.open` id) the proposal was submitted with, if any. */
  policyScope?: string;
}

/** What admission guards see. */
export interface AdmissionContext {
  state: StateStore;
  /** The policy scope the proposal was submitted with, if any. */
  policyScope?: string;
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
  admit(proposal: ActionProposal, ctx: AdmissionContext): Violation[] | Promise<Violation[]>;
}

/** What a tool middleware may use besides the call: an event sink bound to the running proposal. */
export interface MiddlewareContext {
  /** Appends an event stamped with the run's tags and proposal id. */
  emit(event: EventInit): void;
}

/**
 * Wraps tool invocation (rate limits, result caches, idempotency). Call `next()` to invoke the
 * tool; return without calling it to answer from elsewhere (such answers are not counted in
 * `tool_calls`).
 */
export type ToolMiddleware = (call: ToolCall, action: Action, next: (call: ToolCall) => Promise<unknown>, ctx: MiddlewareContext) => Promise<unknown>;
