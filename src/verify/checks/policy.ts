import type { Action } from "../../ir/action.ts";
import { messageOf } from "../../errors.ts";
import { readKeys, writeKeys } from "../../engine/dag.ts";
import type { CapabilitiesLike, PolicyCheck, PolicyFinding, SimulatedStateView } from "../types.ts";
import { outcome, report, type CheckOutcome } from "./outcome.ts";

interface Caps {
  allowed: Set<string>;
  denied: Set<string>;
  keys: Set<string>;
  maxActions: number | undefined;
}

function normalize(c: CapabilitiesLike): Caps {
  return {
    allowed: new Set(c.allowed_tools ?? c.allowedTools ?? []),
    denied: new Set(c.denied_tools ?? c.deniedTools ?? []),
    keys: new Set(c.allowed_state_keys ?? c.allowedStateKeys ?? []),
    maxActions: c.max_actions ?? c.maxActions,
  };
}

/** Capability violations of one action (reference §4.3: empty allow-lists allow all; denied overrides allowed). */
function capabilityViolations(a: Action, caps: Caps): PolicyFinding[] {
  const out: PolicyFinding[] = [];
  if (a.type === "tool_call") {
    if (caps.denied.has(a.tool!)) out.push({ name: `denied_tool:${a.tool}`, reason: `tool "${a.tool}" is denied` });
    else if (caps.allowed.size > 0 && !caps.allowed.has(a.tool!)) out.push({ name: `allowed_tools:${a.tool}`, reason: `tool "${a.tool}" is not in the allowed tools` });
  }
  if (caps.keys.size > 0) {
    for (const k of new Set([...readKeys(a), ...writeKeys(a)])) {
      if (!caps.keys.has(k)) out.push({ name: `allowed_state_keys:${k}`, reason: `state key "${k}" is not in the allowed state keys` });
    }
  }
  return out;
}

/**
 * The policy and capability checks, run inside the forward walk so that state-dependent policies
 * (e.g. `require_state`) see the simulated state where each action would run.
 */
export class PolicyInspector {
  readonly policies: CheckOutcome;
  readonly capabilities: CheckOutcome;
  private readonly caps: Caps | undefined;

  constructor(private readonly check: PolicyCheck | undefined, capabilities: CapabilitiesLike | undefined) {
    this.policies = outcome("policies", "decision_procedure", "no registered policy denies an action (evaluated on the simulated state)", check !== undefined);
    if (!check) this.policies.cannot_verify.push("no policy check was given");
    else this.policies.cannot_verify.push("rate limits and other run-time windows", "conditions on values known only at run time");
    this.capabilities = outcome("capabilities", "decision_procedure", "every tool and state key used is allowed by the capability set", capabilities !== undefined);
    if (!capabilities) this.capabilities.cannot_verify.push("no capability set was given");
    this.caps = capabilities ? normalize(capabilities) : undefined;
  }

  /** Proposal-wide capability limits. */
  checkProposal(actionCount: number): void {
    const max = this.caps?.maxActions;
    if (max !== undefined && actionCount > max) report(this.capabilities, -1, null, "error", `capability: the proposal has ${actionCount} actions, more than the allowed ${max}`);
  }

  /** Checks one action; returns a reason when something denies it. */
  inspect(i: number, a: Action, state: SimulatedStateView): string | undefined {
    const denied: string[] = [];
    if (this.check) {
      let found: readonly PolicyFinding[];
      try {
        found = this.check(a, { state });
      } catch (err) {
        found = [{ name: "policy_check", reason: `the policy check failed: ${messageOf(err)}` }];
      }
      for (const f of found) {
        report(this.policies, i, a.id, "error", `policy ${f.name}: ${f.reason}`);
        denied.push(`policy ${f.name}`);
      }
    }
    if (this.caps) {
      for (const f of capabilityViolations(a, this.caps)) {
        report(this.capabilities, i, a.id, "error", `capability ${f.name}: ${f.reason}`);
        denied.push(`capability ${f.name}`);
      }
    }
    return denied.length > 0 ? `denied by ${denied.join(", ")}` : undefined;
  }
}
