import type { MemGraph } from "./graph.ts";
import { InvertedIndex, DEFAULT_BM25, DEFAULT_PREFIX, type Bm25Settings, type PrefixSettings } from "./inverted-index.ts";
import type { ConclusionNode, EdgeKind, FactNode, MemNode } from "./model.ts";
import { isActiveFact } from "./model.ts";
import { termCounts, words } from "./tokenizer.ts";
import { VectorStore, type Embedder } from "./vectors.ts";

/** Knobs of `query()`. Every one is documented in docs/memgine.md. */
export interface RetrievalSettings {
  bm25: Bm25Settings;
  prefix: PrefixSettings;
  /** Lexical candidates taken from the index before blending. Default 64. */
  candidatePool: number;
  /** Best lexical hits that seed spreading activation. Default 16. */
  seedCount: number;
  /** Hops activation spreads along edges. Default 2. */
  hops: number;
  /** Activation kept per hop. Default 0.5. */
  decay: number;
  /** Edges followed per node per hop (hubs are cut off). Default 256. */
  maxFanout: number;
  /** How strongly each edge kind carries activation; supersedes carries none (old facts stay hidden). */
  edgeWeights: Record<EdgeKind, number>;
  /** Blend weights of the three signals. Vector similarity counts only with an embedder attached. */
  lexicalWeight: number;
  spreadWeight: number;
  vectorWeight: number;
}

export const DEFAULT_RETRIEVAL: RetrievalSettings = {
  bm25: DEFAULT_BM25,
  prefix: DEFAULT_PREFIX,
  candidatePool: 64,
  seedCount: 16,
  hops: 2,
  decay: 0.5,
  maxFanout: 256,
  edgeWeights: { related_to: 1, depends_on: 0.8, cites_premise: 0.8, triggers: 0.6, temporal_next: 0.4, supersedes: 0 },
  lexicalWeight: 0.7,
  spreadWeight: 0.3,
  vectorWeight: 0.5,
};

/** A retrievable node: an active fact or a valid conclusion. */
export type Retrievable = FactNode | ConclusionNode;

/** One ranked result. `score` in [0, 1] blends the signals and the node's confidence. */
export interface RetrievalHit {
  node: Retrievable;
  score: number;
  lexical: number;
  spread: number;
  vector: number | null;
}

/** Subject and aliases count twice as much as body and tags. */
export const SUBJECT_WEIGHT = 2;

/** Index terms of a retrievable node. */
export function nodeTerms(n: Retrievable): Map<string, number> {
  const terms = termCounts(n.subject, SUBJECT_WEIGHT);
  termCounts(n.body, 1, terms);
  if (n.type === "fact") {
    for (const a of n.aliases) termCounts(a, SUBJECT_WEIGHT, terms);
    for (const t of n.tags) termCounts(t, 1, terms);
  }
  return terms;
}

function nodeText(n: Retrievable): string {
  return `${n.subject}\n${n.body}`;
}

/** Whether a node can appear in query results. */
export function isRetrievable(n: MemNode | undefined): n is Retrievable {
  return n !== undefined && (isActiveFact(n) || (n.type === "conclusion" && n.valid));
}

/**
 * Ranks facts and conclusions for a query: BM25 over the inverted index, spreading activation
 * from the best lexical hits along the graph's edges, optional vector similarity, confidence.
 */
export class Retriever {
  readonly index: InvertedIndex;
  readonly vectors = new VectorStore();
  /** Whether texts are queued for embedding (only while an embedder is attached). */
  private embedding = false;

  constructor(
    private readonly graph: MemGraph,
    readonly settings: RetrievalSettings = DEFAULT_RETRIEVAL,
  ) {
    this.index = new InvertedIndex(settings.bm25);
  }

  /** Brings a node's index entry in line with its state (adds, replaces or removes it). */
  sync(node: MemNode, previous?: MemNode): void {
    if (previous && isRetrievable(previous) && this.index.has(previous.id)) {
      this.index.remove(previous.id, nodeTerms(previous));
      this.vectors.drop(previous.id);
    }
    if (isRetrievable(node)) {
      this.index.add(node.id, nodeTerms(node));
      if (this.embedding) this.vectors.queue(node.id, nodeText(node));
    }
  }

  /** Removes a node from the index. */
  drop(node: MemNode): void {
    if (isRetrievable(node) && this.index.has(node.id)) this.index.remove(node.id, nodeTerms(node));
    this.vectors.drop(node.id);
  }

  /** Re-indexes the whole graph (after load, consolidation, or many deletions). */
  rebuild(): void {
    this.index.clear();
    this.vectors.clear();
    for (const n of this.graph.allNodes()) if (isRetrievable(n)) this.sync(n);
  }

  /** Turns embedding on (every retrievable text queued again, for a new embedder) or off. */
  setEmbedding(on: boolean): void {
    this.embedding = on;
    const texts: Array<[string, string]> = [];
    if (on) for (const n of this.graph.allNodes()) if (isRetrievable(n)) texts.push([n.id, nodeText(n)]);
    this.vectors.reset(texts);
  }

  /** Words of the query (lower case, deduplicated) whose term no indexed document holds. */
  unknownTerms(query: string): string[] {
    const out = new Set<string>();
    for (const { word, term } of words(query)) {
      const candidates = [...this.index.expand(new Map([[term, 1]]), this.settings.prefix).keys()];
      if (candidates.every((t) => this.index.docFreq(t) === 0)) out.add(word);
    }
    return [...out];
  }

  /** The `k` best hits for `query`, best first. */
  async query(query: string, k: number, embedder?: Embedder): Promise<RetrievalHit[]> {
    if (k <= 0) return [];
    const s = this.settings;
    const qTerms = this.index.expand(termCounts(query), s.prefix);
    const lexical = this.index.search(qTerms, Math.max(s.candidatePool, k));
    const maxLex = lexical[0]?.score ?? 0;
    const lex = new Map<string, number>();
    for (const d of lexical) lex.set(d.id, maxLex > 0 ? d.score / maxLex : 0);

    const spread = this.spread(lexical.slice(0, s.seedCount).map((d) => [d.id, lex.get(d.id)!] as const));
    const candidates = new Set<string>([...lex.keys(), ...spread.keys()]);

    let vec: Map<string, number> | undefined;
    if (embedder) {
      await this.vectors.flush(embedder);
      const qv = await this.vectors.embedQuery(embedder, query);
      vec = new Map();
      // The index found too little: look for meaning beyond the words, by a full vector scan.
      if (candidates.size < k) {
        for (const d of this.vectors.scan(qv, Math.max(s.candidatePool, k), (id) => isRetrievable(this.graph.get(id)))) candidates.add(d.id);
      }
      for (const id of candidates) vec.set(id, Math.max(0, this.vectors.similarity(id, qv) ?? 0));
    }

    const total = s.lexicalWeight + s.spreadWeight + (vec ? s.vectorWeight : 0);
    const hits: RetrievalHit[] = [];
    for (const id of candidates) {
      const node = this.graph.get(id);
      if (!isRetrievable(node)) continue;
      const l = lex.get(id) ?? 0;
      const a = Math.min(1, spread.get(id) ?? 0);
      const v = vec ? (vec.get(id) ?? 0) : null;
      const relevance = (s.lexicalWeight * l + s.spreadWeight * a + (v === null ? 0 : s.vectorWeight * v)) / total;
      if (relevance <= 0) continue;
      hits.push({ node, score: relevance * (0.5 + 0.5 * node.confidence), lexical: l, spread: a, vector: v });
    }
    hits.sort((x, y) => y.score - x.score || y.node.seq - x.node.seq);
    return hits.slice(0, k);
  }

  /** Activation reaching each node from the seeds, along weighted edges, decaying per hop. */
  private spread(seeds: ReadonlyArray<readonly [string, number]>): Map<string, number> {
    const s = this.settings;
    const act = new Map<string, number>();
    let frontier = new Map<string, number>(seeds);
    for (let hop = 0; hop < s.hops && frontier.size > 0; hop++) {
      const next = new Map<string, number>();
      for (const [id, energy] of frontier) {
        let followed = 0;
        for (const edges of [this.graph.edgesFrom(id), this.graph.edgesTo(id)]) {
          for (const e of edges) {
            if (followed++ >= s.maxFanout) break;
            const amount = energy * s.decay * s.edgeWeights[e.kind] * e.weight;
            if (amount < 1e-3) continue;
            const other = e.from === id ? e.to : e.from;
            next.set(other, (next.get(other) ?? 0) + amount);
          }
        }
      }
      for (const [id, a] of next) act.set(id, (act.get(id) ?? 0) + a);
      frontier = next;
    }
    return act;
  }
}
