import { ActionProposalSchema, type ActionProposal } from "../ir/proposal.ts";
import { parseWith } from "../ir/parse.ts";
import type { Action } from "../ir/action.ts";
import type { Clock } from "./clock.ts";
import { takeParsedProposal } from "./parsed-proposals.ts";
import { hexId, uuidFrom, type Random } from "./random.ts";

/** Parses a proposal from untrusted input and fills in missing ids and the timestamp. */
export function normalizeProposal(input: unknown, clock: Clock, random: Random): ActionProposal {
  const p = takeParsedProposal(input) ?? parseWith(ActionProposalSchema, input, "proposal", "ir", "invalid_proposal");
  // The parse built fresh action objects, so ids are filled in place rather than copied again.
  for (const a of p.actions) a.id ??= uuidFrom(random);
  return {
    ...p,
    id: p.id ?? hexId(random, 12),
    timestamp: p.timestamp ?? new Date(clock.now()).toISOString(),
    actions: p.actions as Action[],
  };
}
