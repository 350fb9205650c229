import type { Action } from "../ir/action.ts";
import { ActionProposalSchema } from "../ir/proposal.ts";
import { parseWith } from "../ir/parse.ts";
import { analyzeDag, type DagAnalysis } from "../engine/dag.ts";

/** A proposal as the static checks see it: parsed, ids filled with placeholders, its DAG analyzed. */
export interface PreparedForVerify {
  actions: Action[];
  /** Indices of actions that came without an id (they carry the placeholder `actions[i]`). */
  missingIds: number[];
  dag: DagAnalysis;
}

/**
 * Parses untrusted proposal input with the IR schema (throws ValidationError `invalid_proposal`
 * like the engine) without assigning random ids: an action without id is named `actions[i]`.
 */
export function prepareForVerify(input: unknown): PreparedForVerify {
  const p = parseWith(ActionProposalSchema, input, "proposal", "verify", "invalid_proposal");
  const missingIds: number[] = [];
  const actions = p.actions.map((a, i) => {
    if (a.id !== undefined) return a as Action;
    missingIds.push(i);
    return { ...a, id: `actions[${i}]` } as Action;
  });
  return { actions, missingIds, dag: analyzeDag(actions) };
}
