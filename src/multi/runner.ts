import { z } from "zod";
import { CarError } from "../errors.ts";
import { parseWith } from "../ir/parse.ts";
import { AgentSpecSchema, parseAgentOutput, type AgentOutput, type AgentSpec } from "./schemas.ts";

/** The multi-agent patterns (and `scheduler` for scheduled tasks), as they appear in events and in `multi.run_agent` callbacks. */
export type PatternName = "swarm" | "pipeline" | "supervisor" | "map_reduce" | "vote" | "tournament" | "scheduler";

/** What a runner is told besides the spec and the task. Runners must stop when `signal` aborts. */
export interface AgentRunContext {
  signal: AbortSignal;
  pattern: PatternName;
  /** The agent's part in the pattern: `agent`, `synthesizer`, `stage`, `worker`, `supervisor`, `mapper`, `reducer`, `judge`, `competitor`. */
  role: string;
  /** Id of the pattern run; every event of the run carries it as `run_id`. */
  run_id: string;
}

/**
 * Runs one agent turn. The runtime never calls a model itself: the host supplies this. It must
 * resolve to an AgentOutput (checked strictly); a thrown error becomes an output with `error`.
 */
export type AgentRunner = (spec: AgentSpec, task: string, context: AgentRunContext) => Promise<unknown>;

let registered: AgentRunner | undefined;

/** Sets the runner used by patterns called without one; `undefined` clears it. */
export function registerAgentRunner(runner: AgentRunner | undefined): void {
  registered = runner;
}

/** The runner given, else the registered one; a CarError when there is neither. */
export function resolveAgentRunner(runner?: AgentRunner): AgentRunner {
  const r = runner ?? registered;
  if (!r) throw new CarError("invalid_input", "multi", "no agent runner: pass one or call registerAgentRunner first");
  return r;
}

/** Params of the `multi.run_agent` server→client callback (the daemon adds `request_id`). */
export const RunAgentParamsSchema = z.object({
  spec: AgentSpecSchema,
  task: z.string(),
  pattern: z.string(),
  role: z.string(),
  run_id: z.string(),
  request_id: z.string().optional(),
  session_id: z.string().optional(),
});
export type RunAgentParams = z.infer<typeof RunAgentParamsSchema>;

/**
 * Name of the server→client notification that tells the client the daemon stopped waiting for a
 * `multi.run_agent` call (the run was cancelled, its deadline passed, the callback timed out).
 * Named like `tools.cancel`; the client should stop that agent turn.
 */
export const RUN_AGENT_CANCEL = "multi.cancel";

/** Params of the `multi.cancel` notification. */
export const RunAgentCancelParamsSchema = z.object({
  /** The `cb-N` id of the `multi.run_agent` request given up on. */
  request_id: z.string(),
  run_id: z.string(),
  /** The agent's spec name. */
  agent: z.string(),
  reason: z.string(),
});
export type RunAgentCancelParams = z.infer<typeof RunAgentCancelParamsSchema>;

/** Sends one server→client request and resolves with the client's `result` (rejects with its `error`). */
export type ClientCall = (method: "multi.run_agent", params: Omit<RunAgentParams, "request_id">, options: { signal: AbortSignal }) => Promise<unknown>;

/**
 * An AgentRunner that delegates each turn to the connected client through `multi.run_agent`.
 * The daemon supplies `call` (its callback channel, which adds `request_id`).
 */
export function clientAgentRunner(call: ClientCall): AgentRunner {
  return (spec, task, ctx) => call("multi.run_agent", { spec, task, pattern: ctx.pattern, role: ctx.role, run_id: ctx.run_id }, { signal: ctx.signal });
}

/**
 * The client side of `multi.run_agent`: checks the daemon's params, runs `runner` and checks its
 * output, so a malformed answer is caught before it is sent back. With `checkOutput: false` the
 * output is passed through as is, for the daemon to check (a malformed one then fails the whole
 * pattern there, as it does in-process).
 */
export function answerRunAgent(params: unknown, runner: AgentRunner, signal: AbortSignal, options?: { checkOutput?: true }): Promise<AgentOutput>;
export function answerRunAgent(params: unknown, runner: AgentRunner, signal: AbortSignal, options: { checkOutput: boolean }): Promise<unknown>;
export async function answerRunAgent(params: unknown, runner: AgentRunner, signal: AbortSignal, options: { checkOutput?: boolean } = {}): Promise<unknown> {
  const p = parseWith(RunAgentParamsSchema, params, "multi.run_agent params", "multi");
  const raw = await runner(p.spec, p.task, { signal, pattern: p.pattern as PatternName, role: p.role, run_id: p.run_id });
  if (options.checkOutput === false) return raw === undefined ? null : raw;
  return parseAgentOutput(raw, p.spec.name);
}
