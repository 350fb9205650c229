import type { ActionProposalInput } from "../ir/proposal.ts";
import { writeKeys } from "../engine/dag.ts";
import { effectiveWrites } from "./checks/conflicts.ts";
import { prepareForVerify } from "./prepare.ts";

/** Settings of `optimize`. */
export interface OptimizeOptions {
  /** The state the proposal will run against: keys present here are already available. */
  initialState?: Readonly<Record<string, unknown>>;
}

/** What `optimize` did. */
export interface OptimizeReport {
  proposal: ActionProposalInput;
  pruned: Array<{ action_id: string; key: string }>;
  levels_before: number;
  levels_after: number;
}

/**
 * Prunes phantom `state_dependencies` so that independent actions share a level (reference §3.3).
 * Never reorders, adds or removes actions, and touches no other field. See `optimizeWithReport`.
 */
export function optimize(proposal: unknown, options: OptimizeOptions = {}): ActionProposalInput {
  return optimizeWithReport(proposal, options).proposal;
}

/**
 * A dependency of action A on key k is phantom when k is already available before the proposal
 * runs (in `initialState`): A need not wait for the proposal's own writers of k. It is kept when
 * A writes k itself, or when A writes a key an earlier action writes too (pruning could turn an
 * ordered pair of writes into a write conflict). Preconditions, explicit dependencies and
 * references are never touched. Keys that are neither available nor written are kept too: that
 * is a missing dependency verify reports, not something to optimize away. Soundness is that of
 * the forward walk: `equivalent(p, optimize(p, { initialState: s }), [s])` holds; a tool that
 * reads the key's updated value through the daemon's `state.get` would see the old one.
 */
export function optimizeWithReport(proposal: unknown, options: OptimizeOptions = {}): OptimizeReport {
  const prep = prepareForVerify(proposal);
  const available = options.initialState ?? {};
  const has = (k: string) => Object.prototype.hasOwnProperty.call(available, k);
  const written = new Set<string>();
  const keep: Array<string[] | undefined> = new Array(prep.actions.length);
  const pruned: OptimizeReport["pruned"] = [];
  prep.actions.forEach((a, i) => {
    const own = new Set(writeKeys(a));
    const writes = effectiveWrites(a);
    const mayConflict = writes.some((k) => written.has(k));
    for (const k of writes) written.add(k);
    if (mayConflict || a.state_dependencies.length === 0) return;
    const kept = a.state_dependencies.filter((k) => own.has(k) || !has(k));
    if (kept.length === a.state_dependencies.length) return;
    keep[i] = kept;
    for (const k of a.state_dependencies) if (!kept.includes(k)) pruned.push({ action_id: a.id, key: k });
  });
  const input = proposal as ActionProposalInput;
  const out: ActionProposalInput = { ...input, actions: input.actions.map((a, i) => (keep[i] ? { ...a, state_dependencies: keep[i] } : a)) };
  const after = pruned.length > 0 ? prepareForVerify(out).dag.levels.length : prep.dag.levels.length;
  return { proposal: out, pruned, levels_before: prep.dag.levels.length, levels_after: after };
}
