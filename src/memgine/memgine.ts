import { z } from "zod";
import { CarError } from "../errors.ts";
import type { Clock } from "../engine/clock.ts";
import type { Random } from "../engine/random.ts";
import { parseWith } from "../ir/parse.ts";
import { consolidate, type ConsolidationReport } from "./consolidate.ts";
import { DEFAULT_CONTEXT, buildContext, buildContextFast, type BuildContextOptions, type ContextSettings } from "./context.ts";
import { MemCore, type InferenceFn } from "./core.ts";
import { addConclusion, addFact, deleteNode, factCount, BodySchema, SubjectSchema, type AddFactOptions } from "./facts.ts";
import type { MemoryFileStore } from "./file-store.ts";
import type { GraphStore } from "./graph-store.ts";
import { EdgeKindSchema, NodeIdSchema, type EdgeKind, type FactKind, type FactNode, type MemNode } from "./model.ts";
import type { RetrievalHit, RetrievalSettings } from "./retrieval.ts";
import { distillSkills, evolveSkills, ingestDistilled, repairSkill } from "./skill-inference.ts";
import type { DistilledSkill, SkillInput, SkillMatch, SkillMeta, SkillQuery, TraceEvent } from "./skill-schemas.ts";
import { SkillBook } from "./skills.ts";
import { fromSnapshotText, toSnapshot } from "./snapshot.ts";
import type { SkillStats } from "./model.ts";
import type { Embedder } from "./vectors.ts";

/** Options of a Memgine. */
export interface MemgineOptions {
  clock?: Clock;
  random?: Random;
  /** Write-through persistence (set by `openMemory`); without one the graph lives in memory only. */
  store?: GraphStore;
  /** Where `persist(path)`/`load(path)` files go; without one they fail with `unsupported`. */
  files?: MemoryFileStore;
  /** Model call for skill distill/evolve/repair. */
  infer?: InferenceFn;
  /** Embedding backend for hybrid retrieval. */
  embedder?: Embedder;
  retrieval?: Partial<RetrievalSettings>;
  context?: Partial<ContextSettings>;
  /** Name of the memory namespace (for errors and reports only). */
  namespace?: string;
}

/** Most results one query may ask for. */
export const MAX_QUERY_K = 1000;
/** Longest query text. */
export const MAX_QUERY_CHARS = 8192;

const QueryInput = z.object({ q: z.string().max(MAX_QUERY_CHARS), k: z.number().int().min(0).max(MAX_QUERY_K) });
const LinkInput = z.object({ from: NodeIdSchema, to: NodeIdSchema, kind: EdgeKindSchema, weight: z.number().min(0).max(1) });
const EntryInput = z.object({ subject: SubjectSchema, body: BodySchema });
const TurnInput = z.object({ role: z.string().min(1).max(64), text: BodySchema });
const WindowInput = z.object({ model_context_window: z.number().int().positive().max(100_000_000).optional() });

/**
 * The memory of one namespace: a graph of facts, conclusions, skills, conversation, identity and
 * environment, with BM25 + spreading-activation retrieval, context building, skills and
 * persistence. Every change is written through to the Storage it was opened on.
 */
export class Memgine {
  readonly namespace: string | undefined;
  private readonly core: MemCore;
  private readonly book: SkillBook;
  private readonly contextSettings: ContextSettings;
  private files: MemoryFileStore | undefined;

  constructor(options: MemgineOptions = {}) {
    this.core = new MemCore(options);
    this.book = new SkillBook(this.core);
    this.contextSettings = { ...DEFAULT_CONTEXT, ...options.context };
    this.files = options.files;
    this.namespace = options.namespace;
  }

  /** Loads the graph from the write-through store (used by `openMemory`). */
  async open(): Promise<this> {
    if (this.core.store) {
      const { nodes, edges } = await this.core.store.load();
      this.core.replaceAll(nodes, edges);
      this.core.graph.takeChanges();
    }
    return this;
  }

  /** Attaches (or detaches) an embedding backend; every document is re-embedded lazily. */
  setEmbedder(embedder: Embedder | undefined): void {
    this.core.embedder = embedder;
    this.core.retriever.setEmbedding(embedder !== undefined);
  }

  /** Attaches (or detaches) the model call used by skill distill/evolve/repair. */
  setInference(infer: InferenceFn | undefined): void {
    this.core.infer = infer;
  }

  /** Sets where persist/load files go. */
  setFileStore(files: MemoryFileStore | undefined): void {
    this.files = files;
  }

  // ── facts ────────────────────────────────────────────────────────────────

  /** Adds a fact and returns its id; a newer fact on the same subject supersedes the older. */
  async addFact(subject: string, body: string, kind: FactKind = "pattern", options: AddFactOptions = {}): Promise<string> {
    const id = addFact(this.core, subject, body, kind, options);
    await this.core.commit();
    return id;
  }

  /** Records a conclusion citing premises; it is invalidated when any premise changes. */
  async addConclusion(subject: string, body: string, premises: string[], confidence?: number): Promise<string> {
    const id = addConclusion(this.core, subject, body, premises, confidence);
    await this.core.commit();
    return id;
  }

  /** Deletes any node (fact, conclusion, skill, …) by id. Returns whether it existed. */
  async delete(id: string): Promise<boolean> {
    const existed = deleteNode(this.core, parseWith(NodeIdSchema, id, "id", "memgine"));
    await this.core.commit();
    return existed;
  }

  /** Joins two nodes with a typed edge (weight in [0, 1], default 1). */
  async link(from: string, to: string, kind: EdgeKind, weight = 1): Promise<void> {
    this.core.link(parseWith(LinkInput, { from, to, kind, weight }, "edge", "memgine"));
    await this.core.commit();
  }

  /** Removes an edge. Returns whether it existed. */
  async unlink(from: string, to: string, kind: EdgeKind): Promise<boolean> {
    const existed = this.core.graph.removeEdge(from, kind, to);
    await this.core.commit();
    return existed;
  }

  /** A node by id. */
  get(id: string): MemNode | undefined {
    return this.core.graph.get(id);
  }

  /** Every fact, superseded ones included, oldest first. */
  facts(): FactNode[] {
    return [...this.core.graph.nodesOf("fact")].sort((a, b) => a.seq - b.seq);
  }

  /** Number of active (not superseded) facts. */
  get factCount(): number {
    return factCount(this.core);
  }

  /** Sets an identity entry (replaces the one with the same subject). */
  async setIdentity(subject: string, body: string): Promise<string> {
    return this.setKeyed("identity", subject, body);
  }

  /** Sets an environment entry (replaces the one with the same subject). */
  async setEnvironment(subject: string, body: string): Promise<string> {
    return this.setKeyed("environment", subject, body);
  }

  /** Appends a conversation turn, linked to the previous one by `temporal_next`. */
  async addTurn(role: string, text: string): Promise<string> {
    const t = parseWith(TurnInput, { role, text }, "turn", "memgine");
    const previous = [...this.core.graph.idsOf("conversation")].pop();
    const id = this.core.newId("turn");
    this.core.put({ id, type: "conversation", role: t.role, text: t.text, created_at: this.core.clock.now(), seq: this.core.nextSeq() });
    if (previous) this.core.link({ from: previous, to: id, kind: "temporal_next", weight: 1 });
    await this.core.commit();
    return id;
  }

  // ── retrieval and context ────────────────────────────────────────────────

  /** The `k` most relevant active facts and valid conclusions for `q`, best first. */
  async query(q: string, k = 5): Promise<RetrievalHit[]> {
    const input = parseWith(QueryInput, { q, k }, "query", "memgine");
    return this.core.retriever.query(input.q, input.k, this.core.embedder);
  }

  /** Context text: Identity → Constraints → Facts → Conversation → Environment → Known Unknowns, within the budget. */
  async buildContext(query: string, options: BuildContextOptions = {}): Promise<string> {
    const q = parseWith(QueryInput, { q: query, k: 0 }, "query", "memgine").q;
    return buildContext(this.core, this.contextSettings, q, parseWith(WindowInput, options, "context options", "memgine"));
  }

  /** Context without scoring, embeddings or known unknowns; the newest facts that fit, in creation order. */
  buildContextFast(options: BuildContextOptions = {}): string {
    return buildContextFast(this.core, this.contextSettings, parseWith(WindowInput, options, "context options", "memgine"));
  }

  // ── skills ───────────────────────────────────────────────────────────────

  async ingestSkill(skill: SkillInput): Promise<string> {
    const id = this.book.ingest(skill);
    await this.core.commit();
    return id;
  }

  /** Best matching skills with `match_score`, best first (empty when none match). */
  findSkill(query: SkillQuery): SkillMatch[] {
    return this.book.find(query);
  }

  /** Records `"success"` or a failure; degraded when `fail_count > success_count + 2`. */
  async reportOutcome(name: string, outcome: string): Promise<SkillStats> {
    const stats = this.book.reportOutcome(name, outcome);
    await this.core.commit();
    return stats;
  }

  listSkills(domain?: string): SkillMeta[] {
    return this.book.list(domain);
  }

  /** New code for a failing skill from the model, or null. Not ingested: re-ingest to adopt it. */
  repairSkill(name: string): Promise<string | null> {
    return repairSkill(this.core, this.book, name);
  }

  /** Skills the model distills from traces (not ingested). */
  distillSkills(events: TraceEvent[]): Promise<DistilledSkill[]> {
    return distillSkills(this.core, events);
  }

  async ingestDistilled(skills: DistilledSkill[]): Promise<number> {
    const n = ingestDistilled(this.book, skills);
    await this.core.commit();
    return n;
  }

  /** Improved variants of a domain's skills from the model, ingested into that domain. */
  async evolveSkills(events: TraceEvent[], domain: string): Promise<DistilledSkill[]> {
    try {
      return await evolveSkills(this.core, this.book, events, domain);
    } finally {
      await this.core.commit();
    }
  }

  domainsNeedingEvolution(threshold = 0.6): string[] {
    return this.book.domainsNeedingEvolution(threshold);
  }

  // ── persistence ──────────────────────────────────────────────────────────

  /** Writes the whole graph to `path` (inside the memory root); returns the fact count. */
  async persist(path: string): Promise<number> {
    const files = this.requireFiles();
    const snap = toSnapshot(this.core.graph.allNodes(), this.core.graph.allEdges());
    await files.writeText(path, JSON.stringify(snap));
    return this.factCount;
  }

  /** Replaces the graph with the one at `path` (inside the memory root); returns the fact count. */
  async load(path: string): Promise<number> {
    const files = this.requireFiles();
    const text = await files.readText(path);
    if (text === undefined) throw new CarError("not_found", "memgine:files", `no memory file at ${path}`, { path });
    const loaded = fromSnapshotText(text, path);
    let nodes = loaded.kind === "graph" ? loaded.nodes : [];
    let edges = loaded.kind === "graph" ? loaded.edges : [];
    if (loaded.kind === "facts") {
      // A bare fact list is ingested like addFact calls (supersession included), off to the side.
      const staging = new MemCore({ clock: this.core.clock, random: this.core.random });
      for (const f of loaded.facts) addFact(staging, f.subject, f.body, f.kind, { confidence: f.confidence, tags: f.tags, source: f.source, ...(f.id ? { id: f.id } : {}) });
      nodes = [...staging.graph.allNodes()];
      edges = [...staging.graph.allEdges()];
    }
    // The store first: if it fails, memory still holds the old graph, matching what is stored.
    if (this.core.store) await this.core.store.replaceAll(nodes, edges);
    this.core.replaceAll(nodes, edges);
    this.core.graph.takeChanges();
    return this.factCount;
  }

  /** Dedupes facts, prunes superseded and invalidated nodes; reports what it did. */
  async consolidate(): Promise<ConsolidationReport> {
    const report = consolidate(this.core);
    await this.core.commit();
    return report;
  }

  /** Re-reads the graph from the store (to see writes of another process sharing it). */
  async reload(): Promise<void> {
    await this.open();
  }

  /** Plain snapshot of the graph (the persist format), for comparisons and export. */
  snapshot(): ReturnType<typeof toSnapshot> {
    return toSnapshot(this.core.graph.allNodes(), this.core.graph.allEdges());
  }

  private requireFiles(): MemoryFileStore {
    if (!this.files) throw new CarError("unsupported", "memgine:files", "no memory file store is configured for persist/load");
    return this.files;
  }

  private async setKeyed(type: "identity" | "environment", subject: string, body: string): Promise<string> {
    const e = parseWith(EntryInput, { subject, body }, type, "memgine");
    const key = e.subject.trim().toLowerCase();
    const existing = [...this.core.graph.nodesOf(type)].find((n) => n.subject.trim().toLowerCase() === key);
    const id = existing?.id ?? this.core.newId(type === "identity" ? "ident" : "env");
    this.core.put({ id, type, subject: e.subject, body: e.body, created_at: existing?.created_at ?? this.core.clock.now(), seq: existing?.seq ?? this.core.nextSeq() });
    await this.core.commit();
    return id;
  }
}
