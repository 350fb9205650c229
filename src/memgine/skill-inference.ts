import { z } from "zod";
import { CarError } from "../errors.ts";
import { parseWith } from "../ir/parse.ts";
import type { MemCore } from "./core.ts";
import { DistilledSkillSchema, SKILL_LIMITS, TraceEventSchema, distilledToInput, type DistilledSkill, type TraceEvent } from "./skill-schemas.ts";
import type { SkillBook } from "./skills.ts";

const EventsSchema = z.array(TraceEventSchema).max(SKILL_LIMITS.maxEvents);

const SKILL_JSON_SHAPE =
  '[{"name": string, "description": string, "when_to_apply": string, "domain": string, ' +
  '"trigger": {"persona": string, "url_pattern": string, "task_keywords": string[]}, "code": string}]';

/** Asks the model for fixed code of a skill; returns the code, or null when it has none. Not ingested. */
export async function repairSkill(core: MemCore, book: SkillBook, name: string): Promise<string | null> {
  const infer = core.requireInference("skill repair");
  const s = book.get(name);
  if (!s) throw new CarError("not_found", "memgine:skills", `no skill named ${name}`, { name });
  const prompt = [
    `The skill "${s.name}" (${s.platform || "any platform"}) is failing: ${s.stats.success_count} successes, ${s.stats.fail_count} failures.`,
    `Description: ${s.description || "(none)"}`,
    `When to apply: ${s.when_to_apply || "(unspecified)"}`,
    "Current code:",
    "```",
    s.code,
    "```",
    "Reply with only the repaired code, or the word null if you cannot repair it.",
  ].join("\n");
  const reply = stripFences(await callModel(infer, prompt)).trim();
  return reply === "" || reply.toLowerCase() === "null" ? null : reply;
}

/** Asks the model to turn execution traces into reusable skills. Nothing is ingested. */
export async function distillSkills(core: MemCore, events: TraceEvent[]): Promise<DistilledSkill[]> {
  const infer = core.requireInference("skill distillation");
  const evs = parseWith(EventsSchema, events, "trace events", "memgine:skills");
  const prompt = [
    "Distill reusable skills from these agent execution events (action_succeeded / action_failed).",
    "Events:",
    quoteEvents(evs),
    `Reply with only a JSON array: ${SKILL_JSON_SHAPE}. Reply [] when nothing is worth keeping.`,
  ].join("\n");
  return parseSkills(await callModel(infer, prompt));
}

/**
 * Asks the model for improved variants of a domain's skills given recent traces, and ingests
 * them into that domain (a variant with an existing name becomes its next version).
 */
export async function evolveSkills(core: MemCore, book: SkillBook, events: TraceEvent[], domain: string): Promise<DistilledSkill[]> {
  const infer = core.requireInference("skill evolution");
  const evs = parseWith(EventsSchema, events, "trace events", "memgine:skills");
  const current = book.list(domain).map((s) => ({ name: s.name, description: s.description, stats: s.stats, code: book.get(s.name)?.code ?? "" }));
  const prompt = [
    `The skills of domain "${domain}" are underperforming. Current skills:`,
    JSON.stringify(current).slice(0, SKILL_LIMITS.maxPromptEventChars),
    "Recent events:",
    quoteEvents(evs),
    `Propose improved variants. Keep a skill's name to replace it. Reply with only a JSON array: ${SKILL_JSON_SHAPE}.`,
  ].join("\n");
  const variants = parseSkills(await callModel(infer, prompt)).map((v) => ({ ...v, domain, source: v.source === "distilled" ? "evolved" : v.source }));
  for (const v of variants) book.ingest(distilledToInput(v, domain));
  return variants;
}

/** Ingests distilled skills as active skills; returns how many. */
export function ingestDistilled(book: SkillBook, skills: DistilledSkill[]): number {
  const parsed = parseWith(z.array(DistilledSkillSchema).max(SKILL_LIMITS.maxEvents), skills, "distilled skills", "memgine:skills");
  for (const s of parsed) book.ingest(distilledToInput(s));
  return parsed.length;
}

async function callModel(infer: (p: string) => Promise<string>, prompt: string): Promise<string> {
  let reply: unknown;
  try {
    reply = await infer(prompt);
  } catch (err) {
    if (err instanceof CarError) throw err;
    throw new CarError("internal", "memgine:skills", `inference failed: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
  }
  if (typeof reply !== "string") throw new CarError("internal", "memgine:skills", "inference returned something other than text");
  return reply;
}

function quoteEvents(events: TraceEvent[]): string {
  const text = JSON.stringify(events);
  return text.length <= SKILL_LIMITS.maxPromptEventChars ? text : text.slice(0, SKILL_LIMITS.maxPromptEventChars) + "…(cut)";
}

function stripFences(text: string): string {
  const m = /```[\w-]*\n?([\s\S]*?)```/.exec(text);
  return m ? m[1]! : text;
}

/** Reads a JSON array of skills out of a model reply (fenced or surrounded by prose). */
export function parseSkills(reply: string): DistilledSkill[] {
  const body = stripFences(reply);
  const start = body.indexOf("[");
  const end = body.lastIndexOf("]");
  let json: unknown;
  try {
    if (start < 0 || end < start) throw new Error("no JSON array");
    json = JSON.parse(body.slice(start, end + 1));
  } catch (err) {
    throw new CarError("invalid_input", "memgine:skills", `model reply is not a JSON array of skills: ${err instanceof Error ? err.message : String(err)}`, { reply: reply.slice(0, 200) });
  }
  return parseWith(z.array(DistilledSkillSchema).max(SKILL_LIMITS.maxEvents), json, "model's skills", "memgine:skills");
}
