import type { MemCore } from "./core.ts";
import type { ConclusionNode, FactNode } from "./model.ts";
import { isActiveFact } from "./model.ts";
import type { RetrievalHit } from "./retrieval.ts";

/** Knobs of `buildContext`. Every one is documented in docs/memgine.md. */
export interface ContextSettings {
  /** Token budget when no model context window is given. Default 8000. */
  defaultBudgetTokens: number;
  /** Share of `model_context_window` used as the budget when one is given. Default 0.25. */
  windowFraction: number;
  /** Smallest budget derived from a window. Default 256. */
  minBudgetTokens: number;
  /** Token estimate: characters per token. Default 4. */
  charsPerToken: number;
  /** Longest single entry, in tokens; longer ones are cut with "…". Default 512. */
  maxItemTokens: number;
  /** Facts retrieved for the Facts section before the budget cut. Default 64. */
  factsK: number;
  /** Most recent conversation turns considered. Default 16. */
  conversationKeepRecent: number;
  /** First-pass caps per section as shares of the budget; Facts take what is left, then caps lift. */
  shares: { identity: number; constraints: number; conversation: number; environment: number; known_unknowns: number };
}

export const DEFAULT_CONTEXT: ContextSettings = {
  defaultBudgetTokens: 8000,
  windowFraction: 0.25,
  minBudgetTokens: 256,
  charsPerToken: 4,
  maxItemTokens: 512,
  factsK: 64,
  conversationKeepRecent: 16,
  shares: { identity: 0.1, constraints: 0.2, conversation: 0.2, environment: 0.1, known_unknowns: 0.05 },
};

/** Section titles, in the order they appear. */
export const SECTION_ORDER = ["Identity", "Constraints", "Facts", "Conversation", "Environment", "Known Unknowns"] as const;
type Section = (typeof SECTION_ORDER)[number];

/** Options of `buildContext` (wire names). */
export interface BuildContextOptions {
  model_context_window?: number;
}

/** The token estimate used for budgets: ceil(characters / charsPerToken). */
export function estimateTokens(text: string, settings: ContextSettings = DEFAULT_CONTEXT): number {
  return Math.ceil(text.length / settings.charsPerToken);
}

/** The budget in tokens for a given window (or the default). */
export function contextBudget(settings: ContextSettings, window?: number): number {
  if (window === undefined) return settings.defaultBudgetTokens;
  return Math.max(1, Math.min(window, Math.max(settings.minBudgetTokens, Math.floor(window * settings.windowFraction))));
}

/**
 * Entries of each section in priority order (most important first). The renderer picks what
 * fits, then prints Facts and Constraints least relevant first so the most relevant come last.
 */
type Candidates = Record<Section, string[]>;

/** Full context: retrieval-ranked facts and constraints, known unknowns. */
export async function buildContext(core: MemCore, settings: ContextSettings, query: string, options: BuildContextOptions = {}): Promise<string> {
  const hits = await core.retriever.query(query, settings.factsK, core.embedder);
  const hitFacts: RetrievalHit[] = [];
  const hitConstraints = new Set<string>();
  for (const h of hits) {
    if (h.node.type === "fact" && h.node.kind === "constraint") hitConstraints.add(h.node.id);
    else hitFacts.push(h);
  }
  const budget = contextBudget(settings, options.model_context_window);
  const c = baseCandidates(core, settings, [...hitConstraints], budget * settings.charsPerToken);
  c.Facts = hitFacts.map((h) => renderRetrievable(h.node));
  const unknown = core.retriever.unknownTerms(query);
  if (unknown.length > 0) c["Known Unknowns"].push(`- No memory matches: ${unknown.join(", ")}`);
  for (const n of newestFirst(core.graph.nodesOf("conclusion"))) {
    if (!n.valid) c["Known Unknowns"].push(`- Needs re-deriving (${n.invalidated_reason ?? "premise changed"}): ${n.subject}: ${n.body}`);
  }
  return render(c, settings, budget);
}

/** Fast context: no scoring, no embeddings, no known unknowns; newest facts that fit, in creation order. */
export function buildContextFast(core: MemCore, settings: ContextSettings, options: BuildContextOptions = {}): string {
  const budgetChars = contextBudget(settings, options.model_context_window) * settings.charsPerToken;
  const c = baseCandidates(core, settings, [], budgetChars);
  let chars = 0;
  for (const f of core.graph.factsNewestFirst()) {
    if (!isActiveFact(f) || f.kind === "constraint") continue;
    const line = renderRetrievable(f);
    chars += line.length + 3;
    if (chars > budgetChars) break;
    c.Facts.push(line);
  }
  return render(c, settings, contextBudget(settings, options.model_context_window));
}

/** Entries of the query-independent sections, each list cut once it alone would fill the budget. */
function baseCandidates(core: MemCore, settings: ContextSettings, rankedConstraints: string[], budgetChars: number): Candidates {
  const { graph } = core;
  const constraints: string[] = [];
  let chars = 0;
  const seen = new Set(rankedConstraints);
  const all = [...graph.activeConstraintIds()];
  const ordered = [...rankedConstraints];
  for (let i = all.length - 1; i >= 0; i--) if (!seen.has(all[i]!)) ordered.push(all[i]!);
  for (const id of ordered) {
    const line = renderRetrievable(graph.get(id) as FactNode);
    constraints.push(line);
    if ((chars += line.length + 1) > budgetChars) break;
  }
  const turns = [...graph.nodesOf("conversation")].slice(-settings.conversationKeepRecent).reverse();
  return {
    Identity: [...graph.nodesOf("identity")].map((n) => `- ${n.subject}: ${n.body}`),
    Constraints: constraints,
    Facts: [],
    Conversation: turns.map((t) => `${t.role}: ${t.text}`),
    Environment: [...graph.nodesOf("environment")].map((n) => `- ${n.subject}: ${n.body}`),
    "Known Unknowns": [],
  };
}

function renderRetrievable(n: FactNode | ConclusionNode): string {
  return n.type === "conclusion" ? `- (conclusion) ${n.subject}: ${n.body}` : `- ${n.subject}: ${n.body}`;
}

function* newestFirst<T extends { seq: number }>(nodes: Iterable<T>): Generator<T> {
  yield* [...nodes].sort((a, b) => b.seq - a.seq);
}

/**
 * Picks entries under the budget (counted in characters, so the estimate of the output never
 * exceeds it) and prints the sections in the fixed order. First pass: each section up to its
 * share, Facts up to everything left; second pass: remaining room in priority order.
 */
function render(c: Candidates, settings: ContextSettings, budgetTokens: number): string {
  const budget = budgetTokens * settings.charsPerToken;
  const maxItem = settings.maxItemTokens * settings.charsPerToken;
  const chosen: Record<Section, string[]> = { Identity: [], Constraints: [], Facts: [], Conversation: [], Environment: [], "Known Unknowns": [] };
  const next: Record<Section, number> = { Identity: 0, Constraints: 0, Facts: 0, Conversation: 0, Environment: 0, "Known Unknowns": 0 };
  let used = 0;

  const cost = (section: Section, line: string) => line.length + 1 + (chosen[section].length === 0 ? section.length + 5 : 0);
  const fill = (section: Section, cap: number) => {
    let spent = 0;
    const items = c[section];
    while (next[section] < items.length) {
      const line = clip(items[next[section]]!, maxItem);
      const add = cost(section, line);
      if (spent + add > cap || used + add > budget) break;
      chosen[section].push(line);
      spent += add;
      used += add;
      next[section]++;
    }
  };
  const s = settings.shares;
  fill("Identity", budget * s.identity);
  fill("Constraints", budget * s.constraints);
  fill("Environment", budget * s.environment);
  fill("Known Unknowns", budget * s.known_unknowns);
  fill("Conversation", budget * s.conversation);
  fill("Facts", budget);
  for (const section of ["Identity", "Constraints", "Conversation", "Environment", "Known Unknowns"] as const) fill(section, budget);

  const parts: string[] = [];
  for (const section of SECTION_ORDER) {
    const lines = chosen[section];
    if (lines.length === 0) continue;
    // Ranked sections print least relevant first; conversation prints oldest first.
    const ordered = section === "Facts" || section === "Constraints" || section === "Conversation" ? [...lines].reverse() : lines;
    parts.push(`## ${section}\n${ordered.join("\n")}`);
  }
  return parts.join("\n\n");
}

function clip(line: string, max: number): string {
  return line.length <= max ? line : line.slice(0, Math.max(0, max - 1)) + "…";
}
