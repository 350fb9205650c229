import { z } from "zod";
import type { Action } from "../ir/action.ts";
import type { ActionProposal } from "../ir/proposal.ts";
import { parseWith } from "../ir/parse.ts";
import type { ActionGuard, GuardContext, ProposalGuard, Violation } from "./hooks.ts";

/**
 * The hard ceiling of one proposal run (reference §4.4). Over budget at admission rejects the
 * whole proposal; exhausted during the run, every remaining action is skipped (`budget exhausted: …`).
 */
export const CostBudgetSchema = z.object({
  /** Most actions a proposal may hold. */
  max_actions: z.number().int().nonnegative().optional(),
  /** Most tool dispatches (retries count). A proposal with more tool_call actions is rejected. */
  max_tool_calls: z.number().int().nonnegative().optional(),
  /** Once this many ms have passed since the run started, actions not yet started are skipped. */
  max_duration_ms: z.number().int().nonnegative().optional(),
});
export type CostBudget = z.infer<typeof CostBudgetSchema>;
export type CostBudgetInput = z.input<typeof CostBudgetSchema>;

/** Enforces a CostBudget at admission (reject) and before each action (skip). */
export class BudgetGuard implements ActionGuard, ProposalGuard {
  private budget: CostBudget | undefined;

  /** Sets (or with `undefined` clears) the budget. */
  set(input: CostBudgetInput | undefined): CostBudget | undefined {
    this.budget = input === undefined ? undefined : parseWith(CostBudgetSchema, input, "cost budget", "budget");
    return this.budget;
  }

  get(): CostBudget | undefined {
    return this.budget;
  }

  admit(proposal: ActionProposal): Violation[] {
    const b = this.budget;
    if (!b) return [];
    const out: Violation[] = [];
    if (b.max_actions !== undefined && proposal.actions.length > b.max_actions) {
      out.push({ source: "budget", name: "budget:max_actions", reason: `proposal has ${proposal.actions.length} actions; the budget allows ${b.max_actions}` });
    }
    const tools = proposal.actions.filter((a) => a.type === "tool_call").length;
    if (b.max_tool_calls !== undefined && tools > b.max_tool_calls) {
      out.push({ source: "budget", name: "budget:max_tool_calls", reason: `proposal has ${tools} tool calls; the budget allows ${b.max_tool_calls}` });
    }
    return out;
  }

  check(action: Action, _parameters: Record<string, unknown>, ctx: GuardContext): Violation[] {
    const b = this.budget;
    if (!b) return [];
    // Duration is exhausted for every action; tool calls only for actions that would dispatch one.
    if (b.max_duration_ms !== undefined && ctx.elapsedMs >= b.max_duration_ms) {
      return [{ source: "budget", name: "budget:max_duration_ms", reason: `budget exhausted: max_duration_ms ${b.max_duration_ms} reached after ${ctx.elapsedMs} ms`, effect: "skip" }];
    }
    if (action.type === "tool_call" && b.max_tool_calls !== undefined && ctx.toolCalls >= b.max_tool_calls) {
      return [{ source: "budget", name: "budget:max_tool_calls", reason: `budget exhausted: max_tool_calls ${b.max_tool_calls} reached`, effect: "skip" }];
    }
    return [];
  }
}
