import { parseWith } from "../ir/parse.ts";
import { runPattern, type Coordinator, type MultiOptions, type RunInfo } from "./coordinator.ts";
import { TournamentParamsSchema, type TournamentParams } from "./params.ts";
import { judgeTask } from "./prompts.ts";
import type { AgentOutput, AgentSpec } from "./schemas.ts";

/** One match of the bracket. A bye has `b: null` and no judge. */
export interface MatchResult {
  round: number;
  a: string;
  b: string | null;
  winner: string;
  bye: boolean;
  /** The fresh judge's output; null for a bye or when a competitor had failed. */
  judge: AgentOutput | null;
  reason: string;
}

/** Result of `multi.tournament`. */
export interface TournamentResult {
  task: string;
  candidates: AgentOutput[];
  matches: MatchResult[];
  /** Null when every competitor failed. */
  winner_name: string | null;
  winner_answer: string | null;
  /** Names, winner first, then by the round they lost in (later first), failed competitors last, ties in the order given. */
  ranking: string[];
}

/**
 * Every competitor answers, then a single-elimination bracket seeded in the order given: when
 * the count is not a power of two P, the first P−n seeds get a bye in round 1 and the rest are
 * paired in order; later rounds pair neighbours in seed order. Each match asks a fresh judge turn.
 */
export async function tournament(params: TournamentParams, options: MultiOptions = {}): Promise<TournamentResult & RunInfo> {
  const p = parseWith(TournamentParamsSchema, params, "multi.tournament params", "multi");
  const opts = p.max_concurrency ? { ...options, maxConcurrency: p.max_concurrency } : options;
  return runPattern("tournament", p.budget ?? undefined, opts, async (c) => {
    const candidates = await c.mapLimited(p.competitors, (a) => c.runAgent(a, p.task, "competitor"));
    const lostIn = new Map<number, number>();
    const matches: MatchResult[] = [];
    let alive = candidates.map((_, i) => i);
    for (let round = 1; alive.length > 1; round++) {
      const pairs: Array<[number, number | undefined]> = [];
      // Byes only in round 1, to the first seeds, so that every later round is a power of two.
      const byes = round === 1 ? nextPowerOfTwo(alive.length) - alive.length : 0;
      for (let i = 0; i < byes; i++) pairs.push([alive[i]!, undefined]);
      for (let i = byes; i < alive.length; i += 2) pairs.push([alive[i]!, alive[i + 1]]);
      const results = await c.mapLimited(pairs, ([a, b]) => playMatch(c, p.judge, p.task, round, candidates, p.competitors, a, b));
      alive = [];
      for (const [m, winner, loser] of results) {
        matches.push(m);
        alive.push(winner);
        if (loser !== undefined) lostIn.set(loser, round);
      }
    }
    const w = alive[0]!;
    const won = candidates[w]!.error === null;
    // Winner, then by the round lost in (later first); failed competitors last. Sort is stable.
    const rankKey = (i: number) => (i === w ? -Infinity : (candidates[i]!.error !== null ? 1000 : 0) - (lostIn.get(i) ?? 0));
    const ranking = candidates
      .map((_, i) => i)
      .sort((x, y) => rankKey(x) - rankKey(y))
      .map((i) => p.competitors[i]!.name);
    return { task: p.task, candidates, matches, winner_name: won ? p.competitors[w]!.name : null, winner_answer: won ? candidates[w]!.answer : null, ranking };
  });
}

async function playMatch(
  c: Coordinator, judge: AgentSpec, task: string, round: number, outs: AgentOutput[], specs: AgentSpec[], a: number, b: number | undefined,
): Promise<[MatchResult, number, number | undefined]> {
  const an = specs[a]!.name;
  if (b === undefined) return [{ round, a: an, b: null, winner: an, bye: true, judge: null, reason: "bye" }, a, undefined];
  const bn = specs[b]!.name;
  const result = (winner: number, j: AgentOutput | null, reason: string): [MatchResult, number, number] => [
    { round, a: an, b: bn, winner: specs[winner]!.name, bye: false, judge: j, reason }, winner, winner === a ? b : a,
  ];
  const aFailed = outs[a]!.error !== null;
  const bFailed = outs[b]!.error !== null;
  if (aFailed || bFailed) return result(aFailed && !bFailed ? b : a, null, aFailed && bFailed ? "both competitors failed" : "opponent failed");
  const j = await c.runAgent(judge, judgeTask(task, outs[a]!, outs[b]!), "judge");
  if (j.error !== null) return result(a, j, `judge failed: ${j.error}`);
  const verdict = readVerdict(j.answer, an, bn);
  return verdict ? result(verdict === "A" ? a : b, j, `judge chose ${verdict}`) : result(a, j, "judge undecided; A advances");
}

/**
 * Reads a judge's answer: JSON `{"winner": "A"|"B"|name}`, or text starting with A/B (or
 * "Candidate A/B"), or naming exactly one of the two competitors. Undefined when undecided.
 */
export function readVerdict(answer: string, aName: string, bName: string): "A" | "B" | undefined {
  let text = answer.trim();
  try {
    const j: unknown = JSON.parse(text);
    if (j && typeof j === "object" && typeof (j as { winner?: unknown }).winner === "string") text = (j as { winner: string }).winner.trim();
  } catch {
    // Prose verdict.
  }
  const t = text.replace(/^["'*\s]+/, "");
  if (/^(candidate\s+)?a\b/i.test(t)) return "A";
  if (/^(candidate\s+)?b\b/i.test(t)) return "B";
  const lower = t.toLowerCase();
  const hasA = lower.includes(aName.toLowerCase());
  const hasB = lower.includes(bName.toLowerCase());
  if (hasA && !hasB) return "A";
  if (hasB && !hasA) return "B";
  return undefined;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
