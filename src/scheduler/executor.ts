import { CarError } from "../errors.ts";
import type { AgentRunner } from "../multi/runner.ts";
import { parseAgentOutput } from "../multi/schemas.ts";
import type { TaskExecutor } from "./scheduler.ts";

/**
 * A TaskExecutor that runs the task as one agent turn: the spec is named after the task, with
 * its system prompt; the task's prompt is the agent's task. An output with `error` fails the run.
 */
export function executorFromRunner(runner: AgentRunner): TaskExecutor {
  return async (task, ctx) => {
    const spec = { name: task.name, system_prompt: task.system_prompt ?? "", tools: [], max_turns: 10, metadata: { task_id: task.id } };
    const raw = await runner(spec, task.prompt, { signal: ctx.signal, pattern: "scheduler", role: "task", run_id: ctx.occurrence_id });
    const out = parseAgentOutput(raw, task.name);
    if (out.error !== null) throw new CarError("tool_error", "scheduler", out.error);
    return out.answer;
  };
}
