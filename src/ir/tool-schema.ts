import { z } from "zod";

export const RateLimitSchema = z.object({
  max_calls: z.number().int().nonnegative(),
  interval_secs: z.number().positive(),
});
export type RateLimit = z.infer<typeof RateLimitSchema>;

/** A tool the runtime may call (reference §2.4). `parameters` and `returns` are JSON Schemas. */
export const ToolSchemaSchema = z.object({
  name: z.string().min(1),
  description: z.string().default(""),
  parameters: z.record(z.string(), z.unknown()).optional(),
  returns: z.record(z.string(), z.unknown()).optional(),
  idempotent: z.boolean().default(false),
  cache_ttl_secs: z.number().nonnegative().optional(),
  rate_limit: RateLimitSchema.optional(),
  source: z.enum(["builtin", "user_defined", "subprocess", "mcp"]).optional(),
});
export type ToolSchema = z.infer<typeof ToolSchemaSchema>;
export type ToolSchemaInput = z.input<typeof ToolSchemaSchema>;
