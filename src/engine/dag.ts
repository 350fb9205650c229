import type { Action } from "../ir/action.ts";
import { ProposalRejectedError } from "../errors.ts";
import { referencedIds } from "./references.ts";

/** The dependency graph of a proposal and its execution levels. */
export interface Dag {
  /** action id → ids it waits for. */
  deps: Map<string, Set<string>>;
  /** Levels in execution order; each level lists ids in declaration order. */
  levels: string[][];
}

/** State keys an action reads: `state_dependencies`, precondition keys, and the key of a state_read/assertion. */
export function readKeys(a: Action): string[] {
  const keys = new Set(a.state_dependencies);
  for (const p of a.preconditions) keys.add(p.key);
  if ((a.type === "state_read" || a.type === "assertion") && typeof a.parameters["key"] === "string") keys.add(a.parameters["key"]);
  return [...keys];
}

/** State keys an action writes: its `expected_effects`, and the key of a state_write. */
export function writeKeys(a: Action): string[] {
  const keys = new Set(Object.keys(a.expected_effects));
  if (a.type === "state_write" && typeof a.parameters["key"] === "string") keys.add(a.parameters["key"]);
  return [...keys];
}

/**
 * Builds the DAG from explicit `dependencies`, `$<id>.output` references and state keys
 * (a reader waits for the latest earlier writer of each key; same-key state_writes are chained in
 * declaration order). Rejects duplicate ids, unknown dependencies and cycles.
 */
export function buildDag(actions: readonly Action[]): Dag {
  const ids = new Set<string>();
  for (const a of actions) {
    if (ids.has(a.id)) throw new ProposalRejectedError("duplicate_id", `duplicate action id "${a.id}"`, { action_id: a.id });
    ids.add(a.id);
  }
  const deps = new Map<string, Set<string>>();
  const lastWriter = new Map<string, string>();
  const lastStateWrite = new Map<string, string>();
  for (const a of actions) {
    const d = new Set<string>();
    for (const dep of a.dependencies) {
      if (!ids.has(dep)) throw new ProposalRejectedError("unknown_dependency", `action "${a.id}" depends on unknown action "${dep}"`, { action_id: a.id, dependency: dep });
      d.add(dep);
    }
    for (const ref of referencedIds(a.parameters)) {
      if (!ids.has(ref)) throw new ProposalRejectedError("unknown_dependency", `action "${a.id}" references unknown action "$${ref}.output"`, { action_id: a.id, dependency: ref });
      d.add(ref);
    }
    for (const k of readKeys(a)) {
      const w = lastWriter.get(k);
      if (w !== undefined && w !== a.id) d.add(w);
    }
    for (const k of writeKeys(a)) {
      if (a.type === "state_write") {
        const prev = lastStateWrite.get(k);
        if (prev !== undefined) d.add(prev);
        lastStateWrite.set(k, a.id);
      }
      lastWriter.set(k, a.id);
    }
    deps.set(a.id, d);
  }
  return { deps, levels: levelsOf(actions, deps) };
}

function levelsOf(actions: readonly Action[], deps: Map<string, Set<string>>): string[][] {
  const level = new Map<string, number>();
  const visiting = new Set<string>();
  const stack: string[] = [];
  const visit = (id: string): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) {
      const cycle = [...stack.slice(stack.indexOf(id)), id];
      throw new ProposalRejectedError("cycle", `dependency cycle: ${cycle.join(" -> ")}`, { cycle });
    }
    visiting.add(id);
    stack.push(id);
    let l = 0;
    for (const d of deps.get(id)!) l = Math.max(l, visit(d) + 1);
    stack.pop();
    visiting.delete(id);
    level.set(id, l);
    return l;
  };
  const levels: string[][] = [];
  for (const a of actions) {
    const l = visit(a.id);
    (levels[l] ??= []).push(a.id);
  }
  // Re-sort each level into declaration order (visit order may differ).
  const order = new Map(actions.map((a, i) => [a.id, i]));
  return levels.map((lv) => lv.sort((x, y) => order.get(x)! - order.get(y)!));
}
