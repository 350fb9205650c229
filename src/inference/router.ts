/** Picks a model for a prompt: capability filter, then outcome-first scoring (reference §9 "Routing"). */
import { CarError } from "../errors.ts";
import type { IntentHint, ModelCapability } from "./schemas.ts";
import type { ModelSchema, RouteResult } from "./model-schemas.ts";
import type { ModelStats } from "./stats.ts";

/** Candidates within this score of the best are "in band". */
const BAND = 0.05;
/** Rough characters per token, to judge whether a prompt needs compaction. */
const CHARS_PER_TOKEN = 4;

const TASK_CAPABILITY: Record<string, ModelCapability> = { classify: "classify", code: "code", reasoning: "reasoning", summarize: "summarize" };

/** How hard a prompt looks, from its length and a few keywords. */
export function complexityOf(prompt: string): RouteResult["complexity"] {
  const words = prompt.split(/\s+/).filter(Boolean).length;
  if (words > 400 || /\b(prove|derive|step[- ]by[- ]step|architecture|refactor)\b/i.test(prompt)) return "complex";
  if (words > 60 || /\b(explain|compare|analy[sz]e|why)\b/i.test(prompt)) return "moderate";
  return "simple";
}

/** Ranks the registered models for `prompt`; `capability` is what the caller needs (default generate). */
export function route(models: ModelSchema[], stats: ModelStats, prompt: string, intent: IntentHint = {}, capability: ModelCapability = "generate", isAvailable: (m: ModelSchema) => boolean = () => true): RouteResult {
  const required = new Set<ModelCapability>([capability, ...(intent.require ?? [])]);
  const excluded = new Set(intent.exclude_models ?? []);
  const complexity = complexityOf(prompt);
  const task = intent.task ?? "chat";
  const wanted = TASK_CAPABILITY[task];
  const pool = models.filter((m) => !excluded.has(m.id) && isAvailable(m) && [...required].every((c) => m.capabilities.includes(c)));
  if (pool.length === 0) {
    throw new CarError("not_found", "inference", `no available model offers ${[...required].join(", ")}${excluded.size ? ` (excluded: ${[...excluded].join(", ")})` : ""}`);
  }
  const maxParams = Math.max(1, ...pool.map((m) => m.param_count ?? 0));
  const strategy = intent.high_stakes ? "high_stakes" : intent.prefer_fast ? "prefer_fast" : intent.prefer_quality ? "prefer_quality" : intent.prefer_local ? "prefer_local" : "balanced";
  const scored = pool.map((m) => {
    const p = stats.get(m.id);
    const reliability = p.success_rate ?? 0.5;
    const size = (m.param_count ?? 0) / maxParams;
    let score = 0.6 * reliability + 0.2 * p.ema_quality;
    if (wanted && m.capabilities.includes(wanted)) score += 0.1;
    if (strategy === "high_stakes") score += 0.3 * size + 0.2 * reliability;
    else if (strategy === "prefer_fast") score += 0.2 * (1 - size);
    else if (strategy === "prefer_quality") score += 0.2 * size;
    else if (strategy === "prefer_local" && m.source.type === "local") score += 0.2;
    else if (complexity === "complex") score += 0.1 * size;
    return { m, reliability, score: Math.round(score * 1e6) / 1e6 };
  });
  scored.sort((a, b) => b.score - a.score || a.m.id.localeCompare(b.m.id));
  const best = scored[0]!;
  const promptTokens = Math.ceil(prompt.length / CHARS_PER_TOKEN);
  return {
    model_id: best.m.id,
    model_name: best.m.name,
    task,
    complexity,
    reason: `${strategy}: highest score ${best.score} among ${scored.length} model(s) offering ${[...required].join(", ")}`,
    strategy,
    predicted_quality: Math.round(best.score * 1000) / 1000,
    fallbacks: scored.slice(1).map((s) => s.m.id),
    context_length: best.m.context_length,
    needs_compaction: promptTokens > best.m.context_length,
    candidates: scored.map((s, i) => ({ model_id: s.m.id, reliability: s.reliability, score: s.score, selected: i === 0, in_band: best.score - s.score <= BAND })),
  };
}
