import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { formatPath } from "../ir/parse.ts";

/** One agent of a multi-agent pattern (reference §7). `metadata` carries model/provider/temperature by convention. */
export const AgentSpecSchema = z.object({
  name: z.string().min(1),
  system_prompt: z.string(),
  tools: z.array(z.string()).default([]),
  max_turns: z.number().int().positive().default(10),
  metadata: z.record(z.string(), z.unknown()).default({}),
  cache_control: z.boolean().optional(),
});
export type AgentSpec = z.infer<typeof AgentSpecSchema>;
export type AgentSpecInput = z.input<typeof AgentSpecSchema>;

/**
 * Token use an agent reports, read by budgets: a plain number is a total; an object splits
 * input and output (`total_tokens` defaults to their sum).
 */
export const AgentTokensSchema = z.union([
  z.number().nonnegative(),
  z.object({
    input_tokens: z.number().nonnegative().default(0),
    output_tokens: z.number().nonnegative().default(0),
    total_tokens: z.number().nonnegative().optional(),
  }),
]);
export type AgentTokens = z.infer<typeof AgentTokensSchema>;

/**
 * What one agent turn returns. Strict: every field but `error` (null when absent, as an optional
 * field of the original) must be there with its type; `tool_calls` is a count, not an array.
 */
export const AgentOutputSchema = z.object({
  name: z.string(),
  answer: z.string(),
  turns: z.number().int().nonnegative(),
  tool_calls: z.number().int().nonnegative(),
  duration_ms: z.number().nonnegative(),
  error: z.string().nullable().default(null),
  tokens: AgentTokensSchema.optional(),
  cost_usd: z.number().nonnegative().optional(),
});
export type AgentOutput = z.infer<typeof AgentOutputSchema>;

/** Limits of one pattern run. Once a limit is reached, no new agent starts (reference §7). */
export const BudgetLimitsSchema = z.object({
  max_input_tokens: z.number().nonnegative().optional(),
  max_output_tokens: z.number().nonnegative().optional(),
  max_total_tokens: z.number().nonnegative().optional(),
  max_cost_usd: z.number().nonnegative().optional(),
  max_agents: z.number().int().nonnegative().optional(),
});
export type BudgetLimits = z.infer<typeof BudgetLimitsSchema>;

/** What a pattern run consumed, reported with every result. */
export interface BudgetUsage {
  agents_started: number;
  agents_denied: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_usd: number;
}

/**
 * Checks a runner's return value against the strict AgentOutput shape. Anything else is a
 * ValidationError whose message names each missing or mistyped field.
 */
export function parseAgentOutput(raw: unknown, agent: string): AgentOutput {
  const res = AgentOutputSchema.safeParse(raw);
  if (res.success) return res.data;
  const issues = res.error.issues.map((i) => ({
    path: formatPath(i.path),
    message: i.code === "invalid_type" && readField(raw, i.path) === undefined ? "missing field" : i.message,
  }));
  throw new ValidationError("multi", `AgentOutput from agent "${agent}"`, issues);
}

function readField(raw: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

/** An output that stands for an agent that did not run or failed before answering. */
export function errorOutput(name: string, error: string, durationMs = 0): AgentOutput {
  return { name, answer: "", turns: 0, tool_calls: 0, duration_ms: durationMs, error };
}
