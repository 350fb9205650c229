import { z } from "zod";

/**
 * Params of the server→client `tools.execute` request. The arguments travel under both
 * `parameters` and `params` (clients of the original read one or the other).
 */
export const ToolsExecuteParamsSchema = z.object({
  action_id: z.string(),
  tool: z.string(),
  parameters: z.record(z.string(), z.unknown()).default({}),
  params: z.record(z.string(), z.unknown()).optional(),
  /** 1-based; increments on each retry. */
  attempt: z.number().int().positive().default(1),
  /** The JSON-RPC id of this request (`cb-N`); `tools.cancel` names it. */
  request_id: z.string(),
  session_id: z.string().optional(),
  /** How long the daemon waits for the answer. */
  timeout_ms: z.number().optional(),
  /** The proposal this call belongs to (car-server addition; older daemons omit it). */
  proposal_id: z.string().optional(),
});
export type ToolsExecuteParams = z.infer<typeof ToolsExecuteParamsSchema>;

/** Params of the server→client `tools.cancel` notification: the daemon stopped waiting. */
export const ToolsCancelParamsSchema = z.object({
  request_id: z.string(),
  action_id: z.string(),
  reason: z.string(),
});
export type ToolsCancelParams = z.infer<typeof ToolsCancelParamsSchema>;
