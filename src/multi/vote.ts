import { parseWith } from "../ir/parse.ts";
import { runPattern, type MultiOptions, type RunInfo } from "./coordinator.ts";
import { VoteParamsSchema, type VoteParams } from "./params.ts";
import { synthesis } from "./prompts.ts";
import type { AgentOutput } from "./schemas.ts";

/** One distinct answer and who gave it. */
export interface TallyEntry {
  /** The answer as first given (trimmed). */
  answer: string;
  count: number;
  agents: string[];
}

/** Result of `multi.vote`. */
export interface VoteResult {
  task: string;
  outputs: AgentOutput[];
  /** Distinct answers, most votes first; ties keep the order in which answers first appeared. */
  tally: TallyEntry[];
  /** The synthesizer's answer when it ran and succeeded, else the top tally answer; null when nobody answered. */
  winner_answer: string | null;
  winner_votes: number;
  /** Whether the top answer has more than half of the successful votes. */
  majority: boolean;
  synthesis: AgentOutput | null;
}

/** Asks every agent independently and picks the answer most agents gave (optionally merged by a synthesizer). */
export async function vote(params: VoteParams, options: MultiOptions = {}): Promise<VoteResult & RunInfo> {
  const p = parseWith(VoteParamsSchema, params, "multi.vote params", "multi");
  const opts = p.max_concurrency ? { ...options, maxConcurrency: p.max_concurrency } : options;
  return runPattern("vote", p.budget ?? undefined, opts, async (c) => {
    const outputs = await c.mapLimited(p.agents, (a) => c.runAgent(a, p.task, "agent"));
    const tally = tallyAnswers(outputs);
    const voters = outputs.filter((o) => o.error === null).length;
    const top = tally[0];
    const synth = p.synthesizer ? await c.runAgent(p.synthesizer, synthesis(p.task, outputs), "synthesizer") : null;
    const winner_answer = synth && synth.error === null ? synth.answer : (top?.answer ?? null);
    return { task: p.task, outputs, tally, winner_answer, winner_votes: top?.count ?? 0, majority: top !== undefined && top.count * 2 > voters, synthesis: synth };
  });
}

/** Two answers count as the same vote when equal after trimming, collapsing whitespace, lower-casing and dropping trailing `.`/`!`. */
export function normalizeVote(answer: string): string {
  return answer.trim().replace(/\s+/g, " ").toLowerCase().replace(/[.!]+$/, "");
}

/** Groups successful answers by their normalized form. */
export function tallyAnswers(outputs: readonly AgentOutput[]): TallyEntry[] {
  const groups = new Map<string, TallyEntry>();
  for (const o of outputs) {
    if (o.error !== null) continue;
    const key = normalizeVote(o.answer);
    const g = groups.get(key);
    if (g) {
      g.count++;
      g.agents.push(o.name);
    } else groups.set(key, { answer: o.answer.trim(), count: 1, agents: [o.name] });
  }
  // Array.prototype.sort is stable, so equal counts keep first-appearance order.
  return [...groups.values()].sort((a, b) => b.count - a.count);
}
