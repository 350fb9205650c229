import type { Action } from "../../ir/action.ts";
import { canonicalJson } from "../../engine/canonical-json.ts";
import { readKeys } from "../../engine/dag.ts";
import type { PreparedForVerify } from "../prepare.ts";
import { listSome, outcome, report, type CheckOutcome } from "./outcome.ts";

/** Keys an action really writes when it runs in the engine: a tool_call's expected_effects, a state_write's key. */
export function effectiveWrites(a: Action): string[] {
  if (a.type === "tool_call") return Object.keys(a.expected_effects);
  if (a.type === "state_write" && typeof a.parameters["key"] === "string") return [a.parameters["key"]];
  return [];
}

/**
 * Write conflicts: the engine runs a level's actions concurrently, so two writers of one key in the
 * same level race (different levels are ordered). Each writer is paired with the previous writer of
 * the key in its level (linear; n writers give n−1 pairs). Also flags a read racing a same-level write.
 */
export function conflictCheck(prep: PreparedForVerify): { check: CheckOutcome; conflicts: Array<[string, string, string]> } {
  const { actions, dag } = prep;
  const check = outcome("write_conflicts", "decision_procedure", "no two actions that may run at the same time write (or read and write) the same key");
  check.cannot_verify.push("state a tool changes beyond its declared expected_effects");
  const conflicts: Array<[string, string, string]> = [];
  for (const level of dag.levels) {
    const writers = new Map<string, number>();
    const firstWriter = new Map<string, number>();
    for (const i of level) {
      const a = actions[i]!;
      for (const k of effectiveWrites(a)) {
        const prev = writers.get(k);
        if (prev !== undefined) {
          conflicts.push([actions[prev]!.id, a.id, k]);
          report(check, i, a.id, "warning", `write conflict on "${k}" with "${actions[prev]!.id}": both may run at the same time, so the final value is unordered`);
        } else firstWriter.set(k, i);
        writers.set(k, i);
      }
    }
    if (writers.size === 0) continue;
    for (const i of level) {
      const a = actions[i]!;
      for (const k of readKeys(a)) {
        const w = firstWriter.get(k);
        if (w === undefined || w === i) continue;
        report(check, i, a.id, "warning", `reads "${k}" while "${actions[w]!.id}" may be writing it at the same time: add a dependency to order them`);
      }
    }
  }
  return { check, conflicts };
}

/** Loop detection: the same tool with the same parameters `threshold` or more times. */
export function repeatedCallCheck(actions: readonly Action[], threshold: number): CheckOutcome {
  const check = outcome("repeated_calls", "heuristic", `no tool is called ${threshold} or more times with identical parameters (a sign of a loop)`);
  check.cannot_verify.push("whether repetition is intended (e.g. polling)");
  const groups = new Map<string, number[]>();
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    if (a.type !== "tool_call") continue;
    const key = `${a.tool}\u0000${canonicalJson(a.parameters)}`;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  }
  for (const g of groups.values()) {
    if (g.length < threshold) continue;
    const a = actions[g[threshold - 1]!]!;
    report(check, g[threshold - 1]!, a.id, "warning", `tool "${a.tool}" is called ${g.length} times with identical parameters (${listSome(g.map((i) => actions[i]!.id))}): possible loop`);
  }
  return check;
}
