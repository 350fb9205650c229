/** classify and rerank built on a loaded model's scoring and embeddings. */
import { CarError } from "../errors.ts";
import type { LoadedModel } from "./backend.ts";

/** Prompt whose continuation is the label; the label's mean token log-probability scores it. */
export function classifyPrompt(text: string): string {
  return `Text: ${text}\nLabel:`;
}

/** Softmax of `xs`. */
export function softmax(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Label probabilities: softmax over each label's mean log-probability as a continuation of
 * `classifyPrompt(text)`; models that cannot score fall back to embedding similarity.
 */
export async function classifyWith(lm: LoadedModel, text: string, labels: string[], signal?: AbortSignal): Promise<Array<{ label: string; score: number }>> {
  let raw: number[];
  if (lm.scoreContinuations) {
    const scores = await lm.scoreContinuations(classifyPrompt(text), labels.map((l) => ` ${l}`), signal);
    raw = scores.map((s) => s.logprob / Math.max(1, s.tokens));
  } else if (lm.embed) {
    const [t, ...ls] = await lm.embed([text, ...labels], signal);
    raw = ls.map((l) => dot(t!, l) * 10);
  } else throw new CarError("unsupported", "inference", "model can neither score nor embed: cannot classify");
  const probs = softmax(raw);
  return labels.map((label, i) => ({ label, score: probs[i]! })).sort((a, b) => b.score - a.score);
}

/** Documents ordered by cosine similarity of their embedding to the (instruction-prefixed) query's. */
export async function rerankWith(lm: LoadedModel, query: string, documents: string[], instruction: string | undefined, signal?: AbortSignal): Promise<Array<{ index: number; score: number; document: string }>> {
  if (!lm.embed) throw new CarError("unsupported", "inference", "model cannot embed: cannot rerank");
  const q = instruction ? `${instruction}\n${query}` : query;
  const [qv, ...dv] = await lm.embed([q, ...documents], signal);
  return documents
    .map((document, index) => ({ index, score: dot(qv!, dv[index]!), document }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
}
