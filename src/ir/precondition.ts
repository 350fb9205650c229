import { z } from "zod";

/** Operators a precondition may use. Anything else is accepted on the wire and evaluates to false. */
export const PRECONDITION_OPERATORS = ["eq", "neq", "gt", "lt", "gte", "lte", "exists", "not_exists", "contains"] as const;
export type PreconditionOperator = (typeof PRECONDITION_OPERATORS)[number];

/** A condition on the state store that must hold before an action runs (reference §2.3). */
export const PreconditionSchema = z.object({
  key: z.string(),
  operator: z.string().default("eq"),
  value: z.unknown().default(null),
  description: z.string().default(""),
});
export type Precondition = z.infer<typeof PreconditionSchema>;
export type PreconditionInput = z.input<typeof PreconditionSchema>;
