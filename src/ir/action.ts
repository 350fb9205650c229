import { z } from "zod";
import { PreconditionSchema } from "./precondition.ts";

export const ACTION_TYPES = ["tool_call", "state_write", "state_read", "assertion"] as const;
export const ActionTypeSchema = z.enum(ACTION_TYPES);
export type ActionType = z.infer<typeof ActionTypeSchema>;

export const FailureBehaviorSchema = z.enum(["abort", "retry", "skip"]);
export type FailureBehavior = z.infer<typeof FailureBehaviorSchema>;

export const ReversibilitySchema = z.enum(["reversible", "compensable", "irreversible"]);
export type Reversibility = z.infer<typeof ReversibilitySchema>;

export const InvocationModeSchema = z.enum(["one_shot", "streaming", "long_running"]);
export type InvocationMode = z.infer<typeof InvocationModeSchema>;

export const AssumptionSchema = z.object({
  key: z.string(),
  expected_value: z.unknown().optional(),
  read_version: z.number().int().nonnegative().optional(),
});
export type Assumption = z.infer<typeof AssumptionSchema>;

export const CompensationSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("tool"), tool: z.string(), parameters: z.record(z.string(), z.unknown()).optional() }),
  z.object({ type: z.literal("action_ref"), action_id: z.string() }),
]);
export type Compensation = z.infer<typeof CompensationSchema>;

/** One step of a proposal (reference §2.2). `id` may be omitted: the runtime assigns one. */
export const ActionSchema = z
  .object({
    id: z.string().min(1).optional(),
    type: ActionTypeSchema,
    tool: z.string().min(1).optional(),
    parameters: z.record(z.string(), z.unknown()).default({}),
    preconditions: z.array(PreconditionSchema).default([]),
    expected_effects: z.record(z.string(), z.unknown()).default({}),
    state_dependencies: z.array(z.string()).default([]),
    /** Explicit ordering edges: ids of actions that must finish first. */
    dependencies: z.array(z.string()).default([]),
    read_set: z.array(z.string()).default([]),
    write_set: z.array(z.string()).default([]),
    assumptions: z.array(AssumptionSchema).default([]),
    invocation_mode: InvocationModeSchema.default("one_shot"),
    reversibility: ReversibilitySchema.default("irreversible"),
    compensation: CompensationSchema.optional(),
    idempotent: z.boolean().default(false),
    max_retries: z.number().int().nonnegative().default(3),
    failure_behavior: FailureBehaviorSchema.default("abort"),
    timeout_ms: z.number().int().positive().optional(),
    metadata: z.record(z.string(), z.unknown()).default({}),
  })
  .superRefine((a, ctx) => {
    if (a.type === "tool_call" && !a.tool) ctx.addIssue({ code: "custom", path: ["tool"], message: "tool_call requires a tool name" });
    if (a.type === "state_write" || a.type === "state_read") {
      if (typeof a.parameters["key"] !== "string") ctx.addIssue({ code: "custom", path: ["parameters", "key"], message: `${a.type} requires a string parameters.key` });
    }
    if (a.type === "assertion" && typeof a.parameters["key"] !== "string" && a.preconditions.length === 0) {
      ctx.addIssue({ code: "custom", path: ["parameters", "key"], message: "assertion requires parameters.key or preconditions" });
    }
  });
export type ActionInput = z.input<typeof ActionSchema>;
/** A parsed action, its id filled in. */
export type Action = z.infer<typeof ActionSchema> & { id: string };
