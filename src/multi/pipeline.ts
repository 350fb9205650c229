import { parseWith } from "../ir/parse.ts";
import { runPattern, type MultiOptions, type RunInfo } from "./coordinator.ts";
import { PipelineParamsSchema, type PipelineParams } from "./params.ts";
import type { AgentOutput } from "./schemas.ts";

/** Result of `multi.pipeline`. */
export interface PipelineResult {
  task: string;
  /** The stages that ran, in order; the first failed (or budget-denied) stage ends the pipeline. */
  stages: AgentOutput[];
  /** Whether every stage ran and succeeded. */
  completed: boolean;
  /** The last stage's answer when completed, else null. */
  final_answer: string | null;
}

/** Runs stages in order: the first gets the task, each later one the previous stage's answer. */
export async function pipeline(params: PipelineParams, options: MultiOptions = {}): Promise<PipelineResult & RunInfo> {
  const p = parseWith(PipelineParamsSchema, params, "multi.pipeline params", "multi");
  return runPattern("pipeline", p.budget ?? undefined, options, async (c) => {
    const stages: AgentOutput[] = [];
    let input = p.task;
    for (const stage of p.stages) {
      const out = await c.runAgent(stage, input, "stage");
      stages.push(out);
      if (out.error !== null) return { task: p.task, stages, completed: false, final_answer: null };
      input = out.answer;
    }
    return { task: p.task, stages, completed: true, final_answer: input };
  });
}
