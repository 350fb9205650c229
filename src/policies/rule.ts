import type { Action } from "../ir/action.ts";
import type { Violation } from "../engine/hooks.ts";
import type { StateReader } from "../engine/preconditions.ts";
import { canonicalJson } from "../engine/canonical-json.ts";

/** What a policy rule sees about one action about to run. */
export interface PolicyInput {
  action: Action;
  /** The action's parameters with `$id.output` references resolved. */
  parameters: Record<string, unknown>;
  state: StateReader;
  /** The runtime clock's time (ms), for rate windows. */
  now: number;
  /** Evaluate without side effects (static verification): rate windows are read, not consumed. */
  dryRun?: boolean;
}

/**
 * One compiled rule. `evaluate` returns every violation it finds; reasons name the rule, tool and
 * parameter but never echo the value that matched.
 */
export interface PolicyRule {
  evaluate(input: PolicyInput): Violation[];
}

/** A parameter value as text: strings verbatim, anything else as canonical JSON. */
export function stringifyParam(value: unknown): string {
  return typeof value === "string" ? value : canonicalJson(value);
}

/** The tool an action calls, or undefined for non-tool actions. */
export function toolOf(action: Action): string | undefined {
  return action.type === "tool_call" ? action.tool : undefined;
}

/** Whether `params` has its own key `key` (absent parameters never match deny rules). */
export function hasParam(params: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(params, key) && params[key] !== undefined;
}

/** A policy violation. */
export function violation(name: string, reason: string): Violation {
  return { source: "policy", name, reason };
}
