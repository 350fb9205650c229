import { z } from "zod";
import { parseWith } from "../ir/parse.ts";
import { runPattern, type MultiOptions, type RunInfo } from "./coordinator.ts";
import { SupervisorParamsSchema, type SupervisorParams } from "./params.ts";
import { formatAnswers, supervisorTurn } from "./prompts.ts";
import { errorOutput, type AgentOutput } from "./schemas.ts";

/** What the supervisor's answer may say, as JSON (optionally in a ```json fence). */
export const SupervisorDecisionSchema = z.object({
  done: z.boolean().optional(),
  final_answer: z.string().optional(),
  assignments: z.array(z.object({ worker: z.string(), task: z.string() })).optional(),
});
export type SupervisorDecision = z.infer<typeof SupervisorDecisionSchema>;

/** One supervisor round: its decision and the workers' outputs. */
export interface SupervisorRound {
  round: number;
  supervisor: AgentOutput;
  assignments: Array<{ worker: string; task: string }>;
  outputs: AgentOutput[];
}

/** Result of `multi.supervisor`. */
export interface SupervisorResult {
  task: string;
  rounds: SupervisorRound[];
  final_answer: string;
  /** `done`: the supervisor finished; `max_rounds`: rounds ran out; `supervisor_failed`: it failed or was denied. */
  stop_reason: "done" | "max_rounds" | "supervisor_failed";
}

/**
 * A supervisor agent delegates subtasks to named workers round by round and decides when to
 * stop. Its answer is read as a SupervisorDecision; an answer that is not one is the final answer.
 * Without a final answer from it, the last round's successful worker answers are the result.
 */
export async function supervisor(params: SupervisorParams, options: MultiOptions = {}): Promise<SupervisorResult & RunInfo> {
  const p = parseWith(SupervisorParamsSchema, params, "multi.supervisor params", "multi");
  const opts = p.max_concurrency ? { ...options, maxConcurrency: p.max_concurrency } : options;
  const byName = new Map(p.workers.map((w) => [w.name, w]));
  return runPattern("supervisor", p.budget ?? undefined, opts, async (c) => {
    const rounds: SupervisorRound[] = [];
    const fallback = () => formatAnswers((rounds[rounds.length - 1]?.outputs ?? []).filter((o) => o.error === null));
    for (let round = 1; round <= p.max_rounds; round++) {
      const sup = await c.runAgent(p.supervisor, supervisorTurn(p.task, [...byName.keys()], rounds), "supervisor");
      if (sup.error !== null) {
        rounds.push({ round, supervisor: sup, assignments: [], outputs: [] });
        return { task: p.task, rounds, final_answer: fallback(), stop_reason: "supervisor_failed" };
      }
      const decision = readDecision(sup.answer);
      const assignments = decision.assignments ?? [];
      if (decision.done || assignments.length === 0) {
        rounds.push({ round, supervisor: sup, assignments: [], outputs: [] });
        return { task: p.task, rounds, final_answer: decision.final_answer ?? sup.answer, stop_reason: "done" };
      }
      const outputs = await c.mapLimited(assignments, (a) => {
        const spec = byName.get(a.worker);
        return spec ? c.runAgent(spec, a.task, "worker") : Promise.resolve(errorOutput(a.worker, `unknown worker "${a.worker}"`));
      });
      rounds.push({ round, supervisor: sup, assignments, outputs });
    }
    return { task: p.task, rounds, final_answer: fallback(), stop_reason: "max_rounds" };
  });
}

/** Reads a supervisor answer: a SupervisorDecision as JSON, else `{ done: true, final_answer: answer }`. */
export function readDecision(answer: string): SupervisorDecision {
  const text = answer.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, "$1");
  try {
    const res = SupervisorDecisionSchema.safeParse(JSON.parse(text));
    if (res.success && (res.data.done !== undefined || res.data.assignments !== undefined)) return res.data;
  } catch {
    // Not JSON: the supervisor answered in prose, which ends the run.
  }
  return { done: true, final_answer: answer };
}
