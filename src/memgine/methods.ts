import type { z } from "zod";
import { CarError } from "../errors.ts";
import { parseWith } from "../ir/parse.ts";
import type { Memgine } from "./memgine.ts";
import type { RetrievalHit } from "./retrieval.ts";
import * as S from "./schemas.ts";

/** One daemon method: its params schema, its result schema, and a handler taking parsed params. */
export interface MemoryMethod<C> {
  params: z.ZodType;
  result: z.ZodType;
  handler: (params: unknown, ctx: C) => Promise<unknown>;
}

/** Provenance prefix of facts added over the daemon (reference §1.7). */
export const WS_SOURCE_PREFIX = "ws-";

function method<P extends z.ZodType, R extends z.ZodType, C>(params: P, result: R, handler: (p: z.output<P>, ctx: C) => Promise<z.input<R>>): MemoryMethod<C> {
  return { params, result, handler: handler as (p: unknown, ctx: C) => Promise<unknown> };
}

/** A query hit as a `memory.query` row. */
export function toQueryRow(hit: RetrievalHit): S.MemoryQueryRowT {
  const n = hit.node;
  return {
    subject: n.subject,
    body: n.body,
    kind: n.type === "fact" ? n.kind : "conclusion",
    confidence: hit.score,
    fact_id: n.id,
    tags: n.type === "fact" ? n.tags : [],
    source: n.type === "fact" ? n.source : null,
  };
}

/**
 * The memory.*, skill.* and skills.* methods as a plain table (method name → params schema,
 * result schema, handler) for the daemon's dispatcher. `getMemgine(ctx)` returns the graph of the
 * session's memory scope (chosen in `session.auth`).
 */
export function memoryMethods<C>(getMemgine: (ctx: C) => Memgine | Promise<Memgine>): Record<string, MemoryMethod<C>> {
  const m = (ctx: C) => Promise.resolve(getMemgine(ctx));
  return {
    "memory.add_fact": method(S.MemoryAddFactParams, S.FactCountResult, async (p, ctx) => {
      const mem = await m(ctx);
      const source = p.source === undefined ? `${WS_SOURCE_PREFIX}client` : p.source.startsWith(WS_SOURCE_PREFIX) ? p.source : WS_SOURCE_PREFIX + p.source;
      await mem.addFact(p.subject, p.body, p.kind, {
        source,
        ...(p.confidence !== undefined ? { confidence: p.confidence } : {}),
        ...(p.tags !== undefined ? { tags: p.tags } : {}),
        ...(p.fact_id !== undefined ? { id: p.fact_id } : {}),
      });
      return mem.factCount;
    }),
    "memory.query": method(S.MemoryQueryParams, S.MemoryQueryResult, async (p, ctx) => (await (await m(ctx)).query(p.query, p.k)).map(toQueryRow)),
    "memory.build_context": method(S.MemoryBuildContextParams, S.ContextResult, async (p, ctx) =>
      (await m(ctx)).buildContext(p.query, p.model_context_window === undefined ? {} : { model_context_window: p.model_context_window }),
    ),
    "memory.build_context_fast": method(S.MemoryBuildContextFastParams, S.ContextResult, async (p, ctx) =>
      (await m(ctx)).buildContextFast(p.model_context_window === undefined ? {} : { model_context_window: p.model_context_window }),
    ),
    "memory.persist": method(S.MemoryPathParams, S.FactCountResult, async (p, ctx) => (await m(ctx)).persist(p.path)),
    "memory.load": method(S.MemoryPathParams, S.FactCountResult, async (p, ctx) => (await m(ctx)).load(p.path)),
    "memory.consolidate": method(S.MemoryConsolidateParams, S.MemoryConsolidateResult, async (_p, ctx) => (await m(ctx)).consolidate()),
    "memory.fact_count": method(S.MemoryFactCountParams, S.FactCountResult, async (_p, ctx) => (await m(ctx)).factCount),
    "memory.delete": method(S.MemoryDeleteParams, S.MemoryDeleteResult, async (p, ctx) => {
      const mem = await m(ctx);
      const deleted = await mem.delete(p.id);
      return { deleted, fact_count: mem.factCount };
    }),

    "skill.ingest": method(S.SkillIngestParams, S.SkillIngestResult, async (p, ctx) => (await m(ctx)).ingestSkill(p)),
    "skill.find": method(S.SkillFindParams, S.SkillFindResult, async (p, ctx) => {
      const found = (await m(ctx)).findSkill(p);
      return found.length > 0 ? found : null;
    }),
    "skill.report": method(S.SkillReportParams, S.SkillReportResult, async (p, ctx) => (await m(ctx)).reportOutcome(p.name, p.outcome)),
    "skill.repair": method(S.SkillRepairParams, S.SkillRepairResult, async (p, ctx) => (await m(ctx)).repairSkill(p.name)),

    "skills.list": method(S.SkillsListParams, S.SkillsListResult, async (p, ctx) => (await m(ctx)).listSkills(p.domain)),
    "skills.distill": method(S.SkillsDistillParams, S.DistilledSkillsResult, async (p, ctx) => (await m(ctx)).distillSkills(p.events)),
    "skills.ingest_distilled": method(S.SkillsIngestDistilledParams, S.SkillsIngestDistilledResult, async (p, ctx) => ({
      ingested: await (await m(ctx)).ingestDistilled(p.skills),
    })),
    "skills.evolve": method(S.SkillsEvolveParams, S.DistilledSkillsResult, async (p, ctx) => (await m(ctx)).evolveSkills(p.events, p.domain)),
    "skills.domains_needing_evolution": method(S.SkillsDomainsParams, S.SkillsDomainsResult, async (p, ctx) => (await m(ctx)).domainsNeedingEvolution(p.threshold)),
  };
}

/**
 * Calls one method of a table the way a dispatcher would: missing params become `{}`, params are
 * validated (a ValidationError names each bad field), the handler runs.
 */
export async function callMemoryMethod<C>(table: Record<string, MemoryMethod<C>>, name: string, params: unknown, ctx: C): Promise<unknown> {
  const def = Object.hasOwn(table, name) ? table[name] : undefined;
  if (!def) throw new CarError("not_found", "memgine:methods", `unknown method ${name}`, { method: name });
  return def.handler(parseWith(def.params, params ?? {}, `${name} params`, "memgine:methods"), ctx);
}
