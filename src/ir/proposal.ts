import { z } from "zod";
import { ActionSchema, type Action } from "./action.ts";

/** What a model proposes: a DAG of actions (reference §2.1). */
export const ActionProposalSchema = z.object({
  id: z.string().min(1).optional(),
  source: z.string().default("unknown"),
  timestamp: z.string().optional(),
  actions: z.array(ActionSchema),
  context: z.record(z.string(), z.unknown()).optional(),
});
export type ActionProposalInput = z.input<typeof ActionProposalSchema>;
/** A parsed proposal with every id and the timestamp filled in. */
export type ActionProposal = Omit<z.infer<typeof ActionProposalSchema>, "actions" | "id" | "timestamp"> & {
  id: string;
  timestamp: string;
  actions: Action[];
};
