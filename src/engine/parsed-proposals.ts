import type { z } from "zod";
import type { ActionProposalSchema } from "../ir/proposal.ts";

// Internal to the package (not re-exported from the engine's index): proposals that were just
// produced by `ActionProposalSchema` and handed over untouched, so they need not be parsed twice.
type ParsedProposal = z.infer<typeof ActionProposalSchema>;
const parsed = new WeakSet<object>();

/**
 * Marks `p`, the fresh output of `ActionProposalSchema` (e.g. a method's params parse), so the
 * next `normalizeProposal` of it skips parsing it again. The mark is used up by that call.
 */
export function markParsedProposal(p: ParsedProposal): void {
  parsed.add(p);
}

/** `input` itself when it was marked (removing the mark), else undefined. */
export function takeParsedProposal(input: unknown): ParsedProposal | undefined {
  return typeof input === "object" && input !== null && parsed.delete(input) ? (input as ParsedProposal) : undefined;
}
