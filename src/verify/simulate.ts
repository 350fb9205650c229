import { PolicyInspector } from "./checks/policy.ts";
import { prepareForVerify, type PreparedForVerify } from "./prepare.ts";
import { compareKey, Interner } from "./symbolic.ts";
import type { CapabilitiesLike, PolicyCheck } from "./types.ts";
import { stateObject, walk, type WalkResult } from "./walk.ts";

/** Gates simulate can model: actions these deny are blocked like a failed precondition. */
export interface SimulateOptions {
  policyCheck?: PolicyCheck;
  capabilities?: CapabilitiesLike;
}

/** The detailed outcome of a simulation. */
export interface SimulationResult {
  /** Final state; values known only at run time keep their reference template (e.g. `"$a.output"`). */
  state: Record<string, unknown>;
  /** Actions whose effects were skipped, in declaration order, with why. */
  blocked: Array<{ action_id: string; reason: string }>;
  /** Keys whose final value is known only at run time. */
  unknown_keys: string[];
}

function run(prep: PreparedForVerify, initialState: Readonly<Record<string, unknown>>, options: SimulateOptions, interner?: Interner): WalkResult {
  const gate = options.policyCheck || options.capabilities ? new PolicyInspector(options.policyCheck, options.capabilities) : undefined;
  return walk(prep, {
    initialState,
    mode: "simulate",
    ...(interner ? { interner } : {}),
    ...(gate ? { inspect: (i, a, s) => gate.inspect(i, a, s) } : {}),
  });
}

/**
 * The state a proposal leaves (reference §3.2): the forward walk, skipping the effects of blocked
 * actions (a precondition that fails, a missing state dependency, a policy/capability denial) and,
 * cascading, of everything that depends on them. Does not model failure_behavior.
 */
export function simulate(proposal: unknown, initialState: Readonly<Record<string, unknown>> = {}, options: SimulateOptions = {}): Record<string, unknown> {
  return simulateDetailed(proposal, initialState, options).state;
}

/** `simulate`, also saying which actions were blocked and which values stay unknown. */
export function simulateDetailed(proposal: unknown, initialState: Readonly<Record<string, unknown>> = {}, options: SimulateOptions = {}): SimulationResult {
  const prep = prepareForVerify(proposal);
  const w = run(prep, initialState, options);
  return {
    state: stateObject(w.state),
    blocked: [...w.blocked].sort((a, b) => a[0] - b[0]).map(([i, reason]) => ({ action_id: prep.actions[i]!.id, reason })),
    unknown_keys: [...w.state].filter(([, v]) => !v.known).map(([k]) => k),
  };
}

/** Probe states `equivalent` uses by default (reference §3.3). */
export const DEFAULT_PROBE_STATES: ReadonlyArray<Readonly<Record<string, unknown>>> = [{}, { x: 1, y: 2 }];

/**
 * Whether two proposals leave the same state from every probe state (sampling, not proof).
 * Run-time values compare structurally: the output of the same tool with the same parameters is
 * the same value, whatever the action ids.
 */
export function equivalent(p1: unknown, p2: unknown, testStates: ReadonlyArray<Readonly<Record<string, unknown>>> = DEFAULT_PROBE_STATES, options: SimulateOptions = {}): boolean {
  const a = prepareForVerify(p1);
  const b = prepareForVerify(p2);
  const interner = new Interner();
  for (const s of testStates) {
    const x = run(a, s, options, interner).state;
    const y = run(b, s, options, interner).state;
    if (x.size !== y.size) return false;
    for (const [k, v] of x) {
      const u = y.get(k);
      if (u === undefined || compareKey(u) !== compareKey(v)) return false;
    }
  }
  return true;
}
