import { parseWith } from "../ir/parse.ts";
import { runPattern, type Coordinator, type MultiOptions, type RunInfo } from "./coordinator.ts";
import { SwarmParamsSchema, type SwarmMode, type SwarmParams } from "./params.ts";
import { debateTurn, formatAnswers, synthesis, withEarlierAnswers } from "./prompts.ts";
import type { AgentOutput, AgentSpec } from "./schemas.ts";

/** Result of `multi.swarm`. */
export interface SwarmResult {
  task: string;
  mode: SwarmMode;
  /** One per agent, in the order given (for debate: the last round). */
  outputs: AgentOutput[];
  /** Debate only: every round's outputs, the opening round first. */
  rounds?: AgentOutput[][];
  /** The synthesizer's output; null without a synthesizer. */
  synthesis: AgentOutput | null;
  /** The synthesizer's answer; without one (or when it failed or was denied), see `fallbackAnswer`. */
  final_answer: string;
}

/**
 * Runs several agents on one task: `parallel` (independently), `sequential` (each sees the
 * earlier answers), `debate` (opening answers, then rounds seeing the others'), `hybrid`.
 */
export async function swarm(params: SwarmParams, options: MultiOptions = {}): Promise<SwarmResult & RunInfo> {
  const p = parseWith(SwarmParamsSchema, params, "multi.swarm params", "multi");
  const opts = p.max_concurrency ? { ...options, maxConcurrency: p.max_concurrency } : options;
  return runPattern("swarm", p.budget ?? undefined, opts, async (c) => {
    let outputs: AgentOutput[];
    let rounds: AgentOutput[][] | undefined;
    switch (p.mode) {
      case "parallel":
        outputs = await c.mapLimited(p.agents, (a) => c.runAgent(a, p.task, "agent"));
        break;
      case "sequential":
        outputs = await sequential(c, p.agents, p.task, []);
        break;
      case "hybrid": {
        const split = Math.ceil(p.agents.length / 2);
        const first = await c.mapLimited(p.agents.slice(0, split), (a) => c.runAgent(a, p.task, "agent"));
        outputs = await sequential(c, p.agents.slice(split), p.task, first);
        break;
      }
      case "debate":
        rounds = await debate(c, p.agents, p.task, p.rounds);
        outputs = rounds[rounds.length - 1]!;
        break;
    }
    const synth = p.synthesizer ? await c.runAgent(p.synthesizer, synthesis(p.task, outputs), "synthesizer") : null;
    const final_answer = synth && synth.error === null ? synth.answer : fallbackAnswer(p.mode, outputs);
    return { task: p.task, mode: p.mode, outputs, ...(rounds ? { rounds } : {}), synthesis: synth, final_answer };
  });
}

/**
 * The final answer without a (working) synthesizer: for `sequential` and `hybrid` the last
 * successful answer; for `parallel` and `debate` the successful answers as `[name] answer` lines.
 */
export function fallbackAnswer(mode: SwarmMode, outputs: readonly AgentOutput[]): string {
  const ok = outputs.filter((o) => o.error === null);
  if (mode === "sequential" || mode === "hybrid") return ok[ok.length - 1]?.answer ?? "";
  return formatAnswers(ok);
}

async function sequential(c: Coordinator, agents: readonly AgentSpec[], task: string, before: AgentOutput[]): Promise<AgentOutput[]> {
  const all = [...before];
  for (const a of agents) all.push(await c.runAgent(a, withEarlierAnswers(task, all), "agent"));
  return all;
}

async function debate(c: Coordinator, agents: readonly AgentSpec[], task: string, rounds: number): Promise<AgentOutput[][]> {
  const history: AgentOutput[][] = [await c.mapLimited(agents, (a) => c.runAgent(a, task, "agent"))];
  for (let r = 1; r < rounds; r++) {
    const prev = history[r - 1]!;
    history.push(await c.mapLimited(agents, (a, i) => c.runAgent(a, debateTurn(task, prev[i], prev.filter((_, j) => j !== i)), "agent")));
  }
  return history;
}
