import { z } from "zod";
import type { Action } from "../ir/action.ts";
import type { ActionProposal } from "../ir/proposal.ts";
import { parseWith } from "../ir/parse.ts";
import { readKeys, writeKeys } from "./dag.ts";
import type { ActionGuard, ProposalGuard, Violation } from "./hooks.ts";

/**
 * What an agent may do (reference §4.3). Empty `allowed_*` sets allow everything; `denied_tools`
 * overrides `allowed_tools`.
 */
export const CapabilitySetSchema = z.object({
  allowed_tools: z.array(z.string()).default([]),
  denied_tools: z.array(z.string()).default([]),
  allowed_state_keys: z.array(z.string()).default([]),
  max_actions: z.number().int().nonnegative().optional(),
});
export type CapabilitySet = z.infer<typeof CapabilitySetSchema>;
export type CapabilitySetInput = z.input<typeof CapabilitySetSchema>;

const cap = (name: string, reason: string): Violation => ({ source: "capability", name: `capability:${name}`, reason });

/** Enforces a CapabilitySet: too many actions rejects the proposal; a forbidden tool or key rejects the action. */
export class CapabilityGuard implements ActionGuard, ProposalGuard {
  private caps: CapabilitySet | undefined;
  private allowedTools = new Set<string>();
  private deniedTools = new Set<string>();
  private allowedKeys = new Set<string>();

  /** Sets (or with `undefined` clears) the capabilities. */
  set(input: CapabilitySetInput | undefined): CapabilitySet | undefined {
    this.caps = input === undefined ? undefined : parseWith(CapabilitySetSchema, input, "capability set", "capabilities");
    this.allowedTools = new Set(this.caps?.allowed_tools);
    this.deniedTools = new Set(this.caps?.denied_tools);
    this.allowedKeys = new Set(this.caps?.allowed_state_keys);
    return this.caps;
  }

  get(): CapabilitySet | undefined {
    return this.caps;
  }

  admit(proposal: ActionProposal): Violation[] {
    const max = this.caps?.max_actions;
    if (max === undefined || proposal.actions.length <= max) return [];
    return [cap("max_actions", `proposal has ${proposal.actions.length} actions; capabilities allow at most ${max}`)];
  }

  check(action: Action): Violation[] {
    if (!this.caps) return [];
    const out: Violation[] = [];
    if (action.type === "tool_call" && action.tool !== undefined) {
      if (this.deniedTools.has(action.tool)) out.push(cap(`denied_tool:${action.tool}`, `tool ${action.tool} is denied by capabilities`));
      else if (this.allowedTools.size > 0 && !this.allowedTools.has(action.tool)) out.push(cap(`tool_not_allowed:${action.tool}`, `tool ${action.tool} is not in allowed_tools`));
    }
    if (this.allowedKeys.size > 0) {
      for (const key of new Set([...readKeys(action), ...writeKeys(action)])) {
        if (!this.allowedKeys.has(key)) out.push(cap(`state_key:${key}`, `state key ${key} is not in allowed_state_keys`));
      }
    }
    return out;
  }
}
