import { CarError } from "../errors.ts";
import { parseWith } from "../ir/parse.ts";
import type { MemCore } from "./core.ts";
import type { SkillNode, SkillStats } from "./model.ts";
import { SkillInputSchema, SkillQuerySchema, type SkillInput, type SkillMatch, type SkillMeta, type SkillQuery } from "./skill-schemas.ts";
import { termCounts } from "./tokenizer.ts";

/** A skill is degraded (`broken_for_repair`) once failures exceed successes by more than this. */
export const DEGRADED_MARGIN = 2;

/** Weights of the three match signals of `find`; only the ones both sides state count. */
export const SKILL_MATCH_WEIGHTS = { task: 0.6, persona: 0.2, url: 0.2 } as const;

/** Counters after one more outcome. */
export function withOutcome(stats: SkillStats, outcome: string, at: number): SkillStats {
  const ok = outcome === "success";
  const success_count = stats.success_count + (ok ? 1 : 0);
  const fail_count = stats.fail_count + (ok ? 0 : 1);
  return {
    success_count,
    fail_count,
    degraded: fail_count > success_count + DEGRADED_MARGIN,
    success_rate: success_count / (success_count + fail_count),
    last_outcome: outcome,
    last_outcome_at: at,
  };
}

const FRESH_STATS: SkillStats = { success_count: 0, fail_count: 0, degraded: false, success_rate: null, last_outcome: null, last_outcome_at: null };

/**
 * Skills stored as graph nodes: ingest (a new version supersedes the old), find by task
 * keywords, persona and URL (success-weighted), outcomes with the degraded rule, listing.
 * The inference-backed operations live in skill-inference.ts.
 */
export class SkillBook {
  constructor(private readonly core: MemCore) {}

  /** The active (not superseded) skill with this name. */
  get(name: string): SkillNode | undefined {
    for (const s of this.core.graph.nodesOf("skill")) if (s.name === name && s.superseded_by === undefined) return s;
    return undefined;
  }

  /**
   * Adds a skill and returns its node id. Re-ingesting a name makes a new version (fresh stats)
   * that supersedes the old; `supersedes` names another skill to retire.
   */
  ingest(input: SkillInput): string {
    const s = parseWith(SkillInputSchema, input, "skill", "memgine:skills");
    const previous = this.get(s.name);
    const retired = s.supersedes !== undefined && s.supersedes !== s.name ? this.get(s.supersedes) : undefined;
    if (s.supersedes !== undefined && s.supersedes !== s.name && !retired) {
      throw new CarError("not_found", "memgine:skills", `skill ${s.supersedes} (to supersede) does not exist`, { name: s.supersedes });
    }
    const node: SkillNode = {
      id: this.core.newId("skill"),
      type: "skill",
      name: s.name,
      code: s.code,
      platform: s.platform,
      persona: s.persona,
      url_pattern: s.url_pattern,
      task_keywords: s.task_keywords,
      description: s.description,
      when_to_apply: s.when_to_apply,
      domain: s.domain,
      source: s.source,
      version: Math.max(previous?.version ?? 0, retired?.version ?? 0) + 1,
      status: "active",
      stats: FRESH_STATS,
      created_at: this.core.clock.now(),
      seq: this.core.nextSeq(),
    };
    this.core.put(node);
    for (const old of [previous, retired]) {
      if (!old) continue;
      this.core.put({ ...old, superseded_by: node.id });
      this.core.link({ from: node.id, to: old.id, kind: "supersedes", weight: 1 });
    }
    return node.id;
  }

  /** Best matching active skills, best first; degraded ones are still returned, flagged in stats. */
  find(query: SkillQuery): SkillMatch[] {
    const q = parseWith(SkillQuerySchema, query, "skill query", "memgine:skills");
    const taskTerms = [...termCounts(q.task ?? "").keys()];
    const skills = [...this.core.graph.nodesOf("skill")].filter((s) => s.superseded_by === undefined);
    const termsOf = new Map(skills.map((s) => [s.id, new Set(termCounts([s.name, s.description, s.when_to_apply, ...s.task_keywords].join(" ")).keys())] as const));
    // Rarer terms weigh more: idf over the skills themselves.
    const idf = new Map<string, number>();
    for (const t of taskTerms) {
      let df = 0;
      for (const set of termsOf.values()) if (set.has(t)) df++;
      idf.set(t, Math.log(1 + (skills.length + 1) / (df + 0.5)));
    }
    const idfTotal = taskTerms.reduce((sum, t) => sum + idf.get(t)!, 0);

    const out: SkillMatch[] = [];
    for (const s of skills) {
      let weight = 0;
      let score = 0;
      if (taskTerms.length > 0) {
        const own = termsOf.get(s.id)!;
        const covered = taskTerms.reduce((sum, t) => sum + (own.has(t) ? idf.get(t)! : 0), 0);
        weight += SKILL_MATCH_WEIGHTS.task;
        score += SKILL_MATCH_WEIGHTS.task * (idfTotal > 0 ? covered / idfTotal : 0);
      }
      if (q.persona && s.persona) {
        weight += SKILL_MATCH_WEIGHTS.persona;
        if (q.persona.trim().toLowerCase() === s.persona.trim().toLowerCase()) score += SKILL_MATCH_WEIGHTS.persona;
      }
      if (q.url && s.url_pattern) {
        weight += SKILL_MATCH_WEIGHTS.url;
        if (globMatch(s.url_pattern, q.url)) score += SKILL_MATCH_WEIGHTS.url;
      }
      if (weight === 0 || score === 0) continue;
      // Laplace-smoothed reliability: an untried skill counts as 50 %.
      const reliability = (s.stats.success_count + 1) / (s.stats.success_count + s.stats.fail_count + 2);
      const match_score = (score / weight) * (0.5 + 0.5 * reliability);
      out.push({ name: s.name, code: s.code, platform: s.platform, description: s.description, stats: s.stats, match_score });
    }
    out.sort((a, b) => b.match_score - a.match_score || a.name.localeCompare(b.name));
    return out.slice(0, q.max_results);
  }

  /** Records an outcome (`"success"` or anything else = failure) and returns the new stats. */
  reportOutcome(name: string, outcome: string): SkillStats {
    const s = this.get(name);
    if (!s) throw new CarError("not_found", "memgine:skills", `no skill named ${name}`, { name });
    const stats = withOutcome(s.stats, outcome, this.core.clock.now());
    this.core.put({ ...s, stats });
    return stats;
  }

  /** Active skills, optionally of one domain, oldest first. */
  list(domain?: string): SkillMeta[] {
    const out: SkillMeta[] = [];
    for (const s of this.core.graph.nodesOf("skill")) {
      if (s.superseded_by !== undefined || (domain !== undefined && s.domain !== domain)) continue;
      out.push({
        id: s.id, name: s.name, description: s.description, when_to_apply: s.when_to_apply, domain: s.domain,
        platform: s.platform, persona: s.persona, url_pattern: s.url_pattern, task_keywords: s.task_keywords,
        source: s.source, status: s.status, incumbent: s.status === "active", version: s.version, stats: s.stats,
      });
    }
    return out;
  }

  /** Domains whose pooled success rate is below `threshold` (only domains with outcomes count). */
  domainsNeedingEvolution(threshold = 0.6): string[] {
    if (!(threshold >= 0 && threshold <= 1)) throw new CarError("invalid_input", "memgine:skills", `threshold must be within [0, 1], got ${threshold}`);
    const tally = new Map<string, { ok: number; total: number }>();
    for (const s of this.list()) {
      const t = tally.get(s.domain) ?? { ok: 0, total: 0 };
      t.ok += s.stats.success_count;
      t.total += s.stats.success_count + s.stats.fail_count;
      tally.set(s.domain, t);
    }
    return [...tally].filter(([, t]) => t.total > 0 && t.ok / t.total < threshold).map(([d]) => d).sort();
  }
}

/**
 * Whether `url` matches a URL pattern, case-insensitively: with `*` wildcards (any run of
 * characters) the whole URL must match; without, the pattern must occur in it. Two-pointer
 * matching, so no pattern can make it backtrack exponentially.
 */
export function globMatch(pattern: string, url: string): boolean {
  const p = pattern.toLowerCase();
  const s = url.toLowerCase();
  if (!p.includes("*")) return s.includes(p);
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && p[pi] !== "*" && p[pi] === s[si]) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === "*") {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === "*") pi++;
  return pi === p.length;
}
