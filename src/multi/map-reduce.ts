import { parseWith } from "../ir/parse.ts";
import { runPattern, type MultiOptions, type RunInfo } from "./coordinator.ts";
import { MapReduceParamsSchema, type MapReduceParams } from "./params.ts";
import { mapTask, reduceTask } from "./prompts.ts";
import type { AgentOutput } from "./schemas.ts";

/** Result of `multi.map_reduce`. */
export interface MapReduceResult {
  task: string;
  items: string[];
  /** One mapper output per item, in item order. */
  map_outputs: AgentOutput[];
  reduce_output: AgentOutput;
  /** The reducer's answer; when it failed or was denied, the successful mapper answers as `[i] item: answer` lines. */
  final_answer: string;
}

/** Runs the mapper once per item (concurrently, up to `max_concurrency`), then the reducer once over all results. */
export async function mapReduce(params: MapReduceParams, options: MultiOptions = {}): Promise<MapReduceResult & RunInfo> {
  const p = parseWith(MapReduceParamsSchema, params, "multi.map_reduce params", "multi");
  const opts = p.max_concurrency ? { ...options, maxConcurrency: p.max_concurrency } : options;
  return runPattern("map_reduce", p.budget ?? undefined, opts, async (c) => {
    const map_outputs = await c.mapLimited(p.items, (item, i) => c.runAgent(p.mapper, mapTask(p.task, item, i), "mapper"));
    const reduce_output = await c.runAgent(p.reducer, reduceTask(p.task, p.items, map_outputs), "reducer");
    const final_answer =
      reduce_output.error === null
        ? reduce_output.answer
        : map_outputs.flatMap((o, i) => (o.error === null ? [`[${i}] ${p.items[i]}: ${o.answer}`] : [])).join("\n");
    return { task: p.task, items: p.items, map_outputs, reduce_output, final_answer };
  });
}
