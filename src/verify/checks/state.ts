import type { Action } from "../../ir/action.ts";
import { describePrecondition } from "../../engine/preconditions.ts";
import { jsonEqual } from "../../engine/canonical-json.ts";
import type { PreparedForVerify } from "../prepare.ts";
import type { WalkResult } from "../walk.ts";
import { effectiveWrites } from "./conflicts.ts";
import { listSome, outcome, report, type CheckOutcome } from "./outcome.ts";

/** Preconditions, state dependencies and ineffective effects, from one verify-mode walk. */
export function stateChecks(prep: PreparedForVerify, w: WalkResult): CheckOutcome[] {
  const { actions } = prep;
  const writers = new Map<string, number[]>();
  for (let i = 0; i < actions.length; i++) {
    for (const k of effectiveWrites(actions[i]!)) {
      const l = writers.get(k);
      if (l) l.push(i);
      else writers.set(k, [i]);
    }
  }
  const writtenBy = (k: string) => listSome((writers.get(k) ?? []).map((j) => `"${actions[j]!.id}"`), 5);

  const pre = outcome("preconditions", "decision_procedure", "every precondition (and assertion) can hold given the initial state and the declared effects of the actions before it");
  const deps = outcome("state_dependencies", "decision_procedure", "every state_dependencies key is in the initial state or written before the action runs");
  for (let i = 0; i < actions.length; i++) {
    const f = w.facts[i];
    if (!f) continue;
    const a = actions[i]!;
    for (const c of f.failed) {
      const where = c.present
        ? `"${c.condition.key}" is ${JSON.stringify(c.actual)} when this action runs`
        : writers.has(c.condition.key)
          ? `"${c.condition.key}" is not set when this action runs (only ${writtenBy(c.condition.key)} write it, not before)`
          : `"${c.condition.key}" is not set: not in the initial state and no action writes it`;
      report(pre, i, a.id, "error", `precondition ${describePrecondition(c.condition)} cannot hold: ${where}`);
    }
    for (const k of f.missing) {
      if (writers.has(k)) report(deps, i, a.id, "warning", `state dependency "${k}" is written only by actions that do not run before this one (${writtenBy(k)})`);
      else report(deps, i, a.id, "error", `missing dependency: state key "${k}" is never written and not in the initial state`);
    }
  }
  const total = w.decided + w.undecided;
  pre.coverage = total === 0 ? 1 : w.decided / total;
  if (w.undecided > 0) {
    pre.cannot_verify.push(`${w.undecided} condition(s) on values known only at run time (tool outputs), assumed to hold: ${listSome(w.assumedHold.map((i) => actions[i]!.id))}`);
  }
  pre.cannot_verify.push("changes to state by anything other than the declared effects");
  deps.cannot_verify.push("whether the action actually needs the key");
  return [pre, deps, effectsCheck(actions)];
}

/** The engine applies expected_effects only for tool_calls: elsewhere they are claims nothing makes true. */
function effectsCheck(actions: readonly Action[]): CheckOutcome {
  const check = outcome("effects", "decision_procedure", "declared expected_effects are writes the engine performs (tool_call effects, the state_write key)");
  check.cannot_verify.push("whether a tool really produces its declared effects");
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    const keys = Object.keys(a.expected_effects);
    if (a.type === "tool_call" || keys.length === 0) continue;
    if (a.type === "state_write" && keys.length === 1 && keys[0] === a.parameters["key"] && jsonEqual(a.expected_effects[keys[0]!], a.parameters["value"] ?? null)) continue;
    report(check, i, a.id, "warning", `expected_effects on a ${a.type} are not applied by the engine (only tool_call effects are): ${listSome(keys)}`);
  }
  return check;
}
