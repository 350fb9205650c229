import type { Action } from "../ir/action.ts";
import { PRECONDITION_OPERATORS, type Precondition } from "../ir/precondition.ts";
import { checkPrecondition, describePrecondition } from "../engine/preconditions.ts";
import type { PreparedForVerify } from "./prepare.ts";
import { Interner, knownValue, resolveSym, toolOutput, type SymValue } from "./symbolic.ts";
import type { SimulatedStateView } from "./types.ts";

/** A condition that is false where the action would run. */
export interface FailedCondition {
  condition: Precondition;
  /** The value found (absent keys read as null). */
  actual: unknown;
  present: boolean;
}

/** What the walk learned about one action (verify mode). */
export interface ActionFacts {
  failed: FailedCondition[];
  /** `state_dependencies` keys absent where the action would run. */
  missing: string[];
}

/** Settings of one forward walk. */
export interface WalkOptions {
  initialState: Readonly<Record<string, unknown>>;
  /**
   * `verify`: one pass, every action's effects applied (findings do not cascade).
   * `simulate`: blocked actions (false condition, missing dependency, gate) apply nothing, and neither does anything after them.
   */
  mode: "verify" | "simulate";
  /** Gives unknown values structural terms (for `equivalent`). */
  interner?: Interner;
  /** Called for each walked action with the state it would see; a returned reason blocks it in simulate mode. */
  inspect?: (index: number, action: Action, state: SimulatedStateView) => string | undefined;
}

export interface WalkResult {
  state: Map<string, SymValue>;
  /** Action index → why it was blocked (simulate mode; includes actions on cycles). */
  blocked: Map<number, string>;
  /** Per action index (verify mode only). */
  facts: ActionFacts[];
  /** Conditions decided true/false, and those left undecided because a value is known only at run time. */
  decided: number;
  undecided: number;
  /** Indices of actions whose undecided conditions were assumed to hold. */
  assumedHold: number[];
}

const OPERATORS = new Set<string>(PRECONDITION_OPERATORS);
const ABSENT = { get: () => null, exists: () => false };

/** `true`/`false` when decidable on the symbolic value, `undefined` when it depends on a run-time value. */
export function evalCondition(p: Precondition, cell: SymValue | undefined): boolean | undefined {
  if (cell === undefined) return checkPrecondition(p, ABSENT);
  if (cell.known) return checkPrecondition(p, { get: () => cell.value, exists: () => true });
  if (p.operator === "exists") return true;
  if (p.operator === "not_exists" || !OPERATORS.has(p.operator)) return false;
  return undefined;
}

/**
 * The STRIPS-style forward walk shared by verify and simulate: level by level (the engine runs
 * levels one after another), every action of a level sees the state as the level starts, then the
 * level's effects apply in declaration order. Only what actions declare is modelled: a tool_call's
 * `expected_effects` and a state_write's key — the writes the engine performs.
 */
export function walk(prepared: PreparedForVerify, opts: WalkOptions): WalkResult {
  const { actions, dag } = prepared;
  const state = new Map<string, SymValue>();
  for (const [k, v] of Object.entries(opts.initialState)) state.set(k, knownValue(v));
  const outputs: Array<SymValue | undefined> = new Array(actions.length);
  const blocked = new Map<number, string>();
  const facts: ActionFacts[] = opts.mode === "verify" ? new Array(actions.length) : [];
  const assumedHold: number[] = [];
  const simulate = opts.mode === "simulate";
  let decided = 0;
  let undecided = 0;
  let curLevel = 0;
  let curIndex = -1;
  // Outputs the engine is sure to have: lower levels, and the action itself (for its own effects).
  const outputOf = (id: string): SymValue | undefined => {
    const j = dag.indexOf.get(id);
    if (j === undefined) return undefined;
    return j === curIndex || (dag.level[j]! >= 0 && dag.level[j]! < curLevel) ? outputs[j] : undefined;
  };
  const view: SimulatedStateView = {
    get: (k) => state.get(k)?.value ?? null,
    exists: (k) => state.has(k),
    isKnown: (k) => state.get(k)?.known ?? true,
  };

  if (simulate) for (let i = 0; i < actions.length; i++) if (dag.level[i] === -1) blocked.set(i, "on or behind a dependency cycle");

  for (let l = 0; l < dag.levels.length; l++) {
    curLevel = l;
    const runnable: number[] = [];
    for (const i of dag.levels[l]!) {
      curIndex = i;
      const a = actions[i]!;
      if (simulate) {
        const dep = dag.deps[i]!.find((j) => blocked.has(j));
        if (dep !== undefined) {
          blocked.set(i, `dependency ${actions[dep]!.id} was blocked`);
          continue;
        }
      }
      const f: ActionFacts = { failed: [], missing: [] };
      let undecidedHere = false;
      for (const p of conditionsOf(a, outputOf)) {
        const cell = state.get(p.key);
        const ok = evalCondition(p, cell);
        if (ok === undefined) {
          undecided++;
          undecidedHere = true;
          continue;
        }
        decided++;
        if (!ok) f.failed.push({ condition: p, actual: cell ? cell.value : null, present: cell !== undefined });
      }
      for (const k of a.state_dependencies) if (!state.has(k)) f.missing.push(k);
      if (undecidedHere) assumedHold.push(i);
      const gated = opts.inspect?.(i, a, view);
      if (simulate) {
        const why =
          f.failed.length > 0 ? `precondition ${describePrecondition(f.failed[0]!.condition)} fails`
          : f.missing.length > 0 ? `missing dependency ${f.missing[0]}`
          : gated;
        if (why !== undefined) {
          blocked.set(i, why);
          continue;
        }
      } else {
        facts[i] = f;
      }
      outputs[i] = outputFor(a, state, outputOf, opts.interner);
      runnable.push(i);
    }
    for (const i of runnable) {
      curIndex = i;
      applyEffects(actions[i]!, outputs[i]!, state, outputOf, opts.interner);
    }
  }
  return { state, blocked, facts, decided, undecided, assumedHold };
}

/** Preconditions plus an assertion's own condition (parameters resolved as the engine does). */
function conditionsOf(a: Action, outputOf: (id: string) => SymValue | undefined): Precondition[] {
  if (a.type !== "assertion" || typeof a.parameters["key"] !== "string") return a.preconditions;
  const op = resolveSym(a.parameters["operator"] ?? "eq", outputOf);
  const value = resolveSym(a.parameters["value"] ?? null, outputOf);
  if (!op.known || !value.known || typeof op.value !== "string") return a.preconditions; // decided at run time
  const description = typeof a.parameters["description"] === "string" ? a.parameters["description"] : "";
  return [...a.preconditions, { key: a.parameters["key"], operator: op.value, value: value.value ?? null, description }];
}

function outputFor(a: Action, state: Map<string, SymValue>, outputOf: (id: string) => SymValue | undefined, interner?: Interner): SymValue {
  switch (a.type) {
    case "tool_call":
      return toolOutput(a.tool!, a.parameters, outputOf, interner);
    case "state_write":
      return resolveSym(a.parameters["value"] === undefined ? null : a.parameters["value"], outputOf, interner);
    case "state_read":
      return state.get(a.parameters["key"] as string) ?? knownValue(null);
    case "assertion":
      return knownValue(true);
  }
}

function applyEffects(a: Action, output: SymValue, state: Map<string, SymValue>, outputOf: (id: string) => SymValue | undefined, interner?: Interner): void {
  if (a.type === "tool_call") {
    for (const [k, v] of Object.entries(a.expected_effects)) state.set(k, resolveSym(v, outputOf, interner));
  } else if (a.type === "state_write") {
    state.set(a.parameters["key"] as string, output);
  }
}

/** The displayed final state of a walk. */
export function stateObject(state: Map<string, SymValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of state) out[k] = v.value;
  return out;
}
