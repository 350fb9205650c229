import type { Action } from "../ir/action.ts";
import { ProposalRejectedError } from "../errors.ts";
import { referencedIds } from "./references.ts";

/** The dependency graph of a proposal and its execution levels. */
export interface Dag {
  /** action id → ids it waits for. */
  deps: Map<string, Set<string>>;
  /** Levels in execution order; each level lists ids in declaration order. */
  levels: string[][];
  /** Ids of the actions whose parameters reference other outputs (computed by the executor when absent). */
  withRefs?: ReadonlySet<string>;
}

/** Why a proposal's graph cannot be executed. The first finding is what `buildDag` throws. */
export type DagFinding =
  | { kind: "duplicate_id"; index: number; action_id: string; first_index: number; message: string }
  | { kind: "unknown_dependency"; index: number; action_id: string; dependency: string; via: "dependencies" | "reference"; message: string }
  | { kind: "cycle"; index: number; action_id: string; cycle: string[]; message: string };

/**
 * The graph of a proposal, by action index, built without throwing. Edges to unknown ids are
 * left out; actions on or behind a cycle get level -1 and appear in no level.
 */
export interface DagAnalysis {
  /** Action index → indices it waits for (no duplicates), in edge-discovery order. */
  deps: number[][];
  /** Action index → its level, or -1 when it is on or behind a cycle. */
  level: Int32Array;
  /** Levels in execution order; each lists action indices in declaration order. */
  levels: number[][];
  /** Action index → ids its parameters reference (`$<id>.output`), known or not. */
  refs: string[][];
  /** Action id → index of its first declaration. */
  indexOf: Map<string, number>;
  /** Duplicate ids, then unknown dependencies/references in declaration order, then cycles. */
  findings: DagFinding[];
  /** Edge count (sum of deps lengths). */
  edges: number;
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
 * Analyzes the DAG from explicit `dependencies`, `$<id>.output` references and state keys (a reader
 * waits for the latest earlier writer of each key; same-key state_writes are chained in declaration
 * order). Reports duplicate ids, unknown dependencies and cycles as findings. Linear in actions + edges.
 */
export function analyzeDag(actions: readonly Action[]): DagAnalysis {
  const n = actions.length;
  const findings: DagFinding[] = [];
  const indexOf = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = actions[i]!.id;
    const first = indexOf.get(id);
    if (first !== undefined) findings.push({ kind: "duplicate_id", index: i, action_id: id, first_index: first, message: `duplicate action id "${id}"` });
    else indexOf.set(id, i);
  }
  const deps: number[][] = new Array(n);
  const refs: string[][] = new Array(n);
  const stamp = new Int32Array(n).fill(-1);
  const lastWriter = new Map<string, number>();
  const lastStateWrite = new Map<string, number>();
  let edges = 0;
  for (let i = 0; i < n; i++) {
    const a = actions[i]!;
    const d: number[] = [];
    // Plain loops, no per-action closures or sets: this runs once per action on proposals of 100k.
    for (const dep of a.dependencies) {
      const j = indexOf.get(dep);
      if (j === undefined) findings.push({ kind: "unknown_dependency", index: i, action_id: a.id, dependency: dep, via: "dependencies", message: `action "${a.id}" depends on unknown action "${dep}"` });
      else if (stamp[j] !== i) (stamp[j] = i), d.push(j);
    }
    const r = [...referencedIds(a.parameters)];
    refs[i] = r;
    for (const ref of r) {
      const j = indexOf.get(ref);
      if (j === undefined) findings.push({ kind: "unknown_dependency", index: i, action_id: a.id, dependency: ref, via: "reference", message: `action "${a.id}" references unknown action "$${ref}.output"` });
      else if (stamp[j] !== i) (stamp[j] = i), d.push(j);
    }
    for (const k of readKeys(a)) {
      const w = lastWriter.get(k);
      if (w !== undefined && actions[w]!.id !== a.id && stamp[w] !== i) (stamp[w] = i), d.push(w);
    }
    for (const k of writeKeys(a)) {
      if (a.type === "state_write") {
        const prev = lastStateWrite.get(k);
        if (prev !== undefined && stamp[prev] !== i) (stamp[prev] = i), d.push(prev);
        lastStateWrite.set(k, i);
      }
      lastWriter.set(k, i);
    }
    deps[i] = d;
    edges += d.length;
  }
  const { level, levels } = levelsOf(n, deps);
  findings.push(...cyclesOf(actions, deps, level));
  return { deps, refs, level, levels, indexOf, findings, edges };
}

/** Kahn's algorithm: iterative, so a 100k-action chain cannot overflow the stack. */
function levelsOf(n: number, deps: number[][]): { level: Int32Array; levels: number[][] } {
  const pending = new Int32Array(n);
  // Dependents in CSR form (offsets + one flat array): two typed arrays instead of n small arrays.
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    pending[i] = deps[i]!.length;
    for (const j of deps[i]!) start[j + 1]!++;
  }
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, n);
  const dependents = new Int32Array(start[n]!);
  for (let i = 0; i < n; i++) for (const j of deps[i]!) dependents[fill[j]!++] = i;
  const level = new Int32Array(n).fill(-1);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (pending[i] === 0) queue.push(i);
  for (let q = 0; q < queue.length; q++) {
    const i = queue[q]!;
    let l = 0;
    for (const j of deps[i]!) if (level[j]! + 1 > l) l = level[j]! + 1;
    level[i] = l;
    for (let e = start[i]!; e < start[i + 1]!; e++) {
      const k = dependents[e]!;
      if (--pending[k]! === 0) queue.push(k);
    }
  }
  const levels: number[][] = [];
  for (let i = 0; i < n; i++) if (level[i]! >= 0) (levels[level[i]!] ??= []).push(i);
  return { level, levels };
}

/**
 * Every action left without a level is on a cycle or waits for one, so it has an unleveled
 * dependency; following those from each such action finds every cycle once (linear overall).
 */
function cyclesOf(actions: readonly Action[], deps: number[][], level: Int32Array): DagFinding[] {
  const out: DagFinding[] = [];
  const seen = new Uint8Array(actions.length);
  for (let start = 0; start < actions.length; start++) {
    if (level[start] !== -1 || seen[start]) continue;
    const path: number[] = [];
    const pos = new Map<number, number>();
    let cur = start;
    while (!seen[cur]) {
      seen[cur] = 1;
      pos.set(cur, path.length);
      path.push(cur);
      cur = deps[cur]!.find((j) => level[j] === -1)!;
    }
    const at = pos.get(cur);
    if (at === undefined) continue; // reached a cycle found by an earlier walk
    const cycle = [...path.slice(at), cur].map((j) => actions[j]!.id);
    out.push({ kind: "cycle", index: cur, action_id: actions[cur]!.id, cycle, message: `dependency cycle: ${cycle.join(" -> ")}` });
  }
  return out;
}

/**
 * Builds the DAG the engine executes (see `analyzeDag`). Throws ProposalRejectedError on the first
 * finding: duplicate ids, unknown dependencies or references, cycles.
 */
export function buildDag(actions: readonly Action[]): Dag {
  // One action that names no other (the usual single tool call): one level, nothing to analyze.
  // State keys cannot make an edge either: a reader only waits for earlier writers.
  if (actions.length === 1) {
    const only = actions[0]!;
    if (only.dependencies.length === 0 && referencedIds(only.parameters).size === 0) {
      return { deps: new Map([[only.id, new Set<string>()]]), levels: [[only.id]], withRefs: new Set() };
    }
  }
  const a = analyzeDag(actions);
  const f = a.findings[0];
  if (f) {
    if (f.kind === "cycle") throw new ProposalRejectedError("cycle", f.message, { cycle: f.cycle });
    if (f.kind === "duplicate_id") throw new ProposalRejectedError("duplicate_id", f.message, { action_id: f.action_id });
    throw new ProposalRejectedError("unknown_dependency", f.message, { action_id: f.action_id, dependency: f.dependency });
  }
  const deps = new Map<string, Set<string>>();
  const withRefs = new Set<string>();
  for (let i = 0; i < actions.length; i++) {
    deps.set(actions[i]!.id, new Set(a.deps[i]!.map((j) => actions[j]!.id)));
    if (a.refs[i]!.length > 0) withRefs.add(actions[i]!.id);
  }
  return { deps, levels: a.levels.map((lv) => lv.map((i) => actions[i]!.id)), withRefs };
}
