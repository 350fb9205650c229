import type { Action } from "../../ir/action.ts";
import { referencedIds } from "../../engine/references.ts";
import type { PreparedForVerify } from "../prepare.ts";
import { listSome, outcome, report, type CheckOutcome } from "./outcome.ts";

/** Missing and duplicate ids, unknown dependencies, references, cycles: the engine's admission rules, as findings. */
export function structureChecks(prep: PreparedForVerify): CheckOutcome[] {
  const { actions, dag } = prep;
  const ids = outcome("action_ids", "decision_procedure", "every action has an id, unique within the proposal");
  for (const i of prep.missingIds) {
    report(ids, i, actions[i]!.id, "info", `action at index ${i} has no id: the runtime assigns a random one, so no other action can depend on or reference it`);
  }
  const deps = outcome("dependencies", "decision_procedure", "every explicit `dependencies` entry names an action of the proposal");
  const refs = outcome("references", "decision_procedure", "every `$<id>.output` reference names an action that runs before the value is needed");
  refs.cannot_verify.push("whether the referenced output has the fields a reference path names (outputs are known only at run time)");
  const cycles = outcome("cycles", "decision_procedure", "the dependency graph (explicit dependencies, references, state-key edges) is acyclic");
  const selfRefs = new Set<number>();

  for (const f of dag.findings) {
    if (f.kind === "duplicate_id") report(ids, f.index, f.action_id, "error", `duplicate action id "${f.action_id}" (first declared at index ${f.first_index})`);
    else if (f.kind === "unknown_dependency" && f.via === "dependencies") report(deps, f.index, f.action_id, "error", `depends on unknown action "${f.dependency}"`);
    else if (f.kind === "unknown_dependency") report(refs, f.index, f.action_id, "error", `references unknown action "$${f.dependency}.output"`);
  }
  for (let i = 0; i < actions.length; i++) referenceFindings(prep, i, refs, selfRefs);
  for (const f of dag.findings) {
    if (f.kind !== "cycle") continue;
    if (f.cycle.length === 2 && selfRefs.has(f.index)) continue; // already reported as a self-reference
    report(cycles, f.index, f.action_id, "error", f.message);
  }
  const stuck = actions.filter((_, i) => dag.level[i] === -1).map((a) => a.id);
  if (stuck.length > 0) cycles.cannot_verify.push(`actions on or behind a cycle get no level and are not walked: ${listSome(stuck)}`);
  return [ids, deps, refs, cycles];
}

function referenceFindings(prep: PreparedForVerify, i: number, refs: CheckOutcome, selfRefs: Set<number>): void {
  const { actions, dag } = prep;
  const a: Action = actions[i]!;
  for (const id of dag.refs[i]!) {
    const j = dag.indexOf.get(id);
    if (j === undefined) continue; // reported from the DAG findings
    if (j === i) {
      selfRefs.add(i);
      report(refs, i, a.id, "error", `parameters reference the action's own output "$${id}.output"`);
    } else if (j > i) {
      report(refs, i, a.id, "warning", `parameters reference "$${id}.output", declared later: the reference makes "${id}" run first`);
    }
  }
  // The engine writes a tool_call's effects with references resolved; an output not produced yet resolves to null.
  if (a.type !== "tool_call") return;
  for (const id of referencedIds(a.expected_effects)) {
    const j = dag.indexOf.get(id);
    if (j === undefined) report(refs, i, a.id, "error", `expected_effects reference unknown action "$${id}.output"`);
    else if (j !== i && !(dag.level[j]! >= 0 && dag.level[i]! >= 0 && dag.level[j]! < dag.level[i]!)) {
      report(refs, i, a.id, "error", `expected_effects reference "$${id}.output", which is not guaranteed to have run first (the value would be null): add it to dependencies`);
    }
  }
}
