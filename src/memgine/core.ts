import { CarError } from "../errors.ts";
import { systemClock, type Clock } from "../engine/clock.ts";
import { hexId, systemRandom, type Random } from "../engine/random.ts";
import { MemGraph } from "./graph.ts";
import type { MemEdge, MemNode } from "./model.ts";
import { DEFAULT_RETRIEVAL, Retriever, type RetrievalSettings } from "./retrieval.ts";
import type { GraphStore } from "./graph-store.ts";
import type { Embedder } from "./vectors.ts";

/** A text-in, text-out model call used by skill distill/evolve/repair. */
export type InferenceFn = (prompt: string) => Promise<string>;

/**
 * The state every part of a Memgine shares: the graph, its retrieval index (kept in step with
 * every node change), the write-through store, and the injected clock, randomness and models.
 */
export class MemCore {
  readonly graph = new MemGraph();
  readonly retriever: Retriever;
  readonly clock: Clock;
  readonly random: Random;
  store: GraphStore | undefined;
  infer: InferenceFn | undefined;
  embedder: Embedder | undefined;
  private seq = 0;

  constructor(options: { clock?: Clock; random?: Random; store?: GraphStore; infer?: InferenceFn; embedder?: Embedder; retrieval?: Partial<RetrievalSettings> }) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.store = options.store;
    this.infer = options.infer;
    this.embedder = options.embedder;
    this.retriever = new Retriever(this.graph, { ...DEFAULT_RETRIEVAL, ...options.retrieval });
    if (this.embedder) this.retriever.setEmbedding(true);
  }

  /** A fresh node id with a readable prefix (`fact-…`, `skill-…`). */
  newId(prefix: string): string {
    for (;;) {
      const id = `${prefix}-${hexId(this.random, 12)}`;
      if (!this.graph.has(id)) return id;
    }
  }

  /** The next creation-order number. */
  nextSeq(): number {
    return this.seq++;
  }

  /** Inserts or replaces a node and re-indexes it. Nodes are replaced, never mutated in place. */
  put(node: MemNode): void {
    const previous = this.graph.get(node.id);
    this.graph.put(node);
    this.retriever.sync(node, previous);
  }

  /** Removes a node, its edges and its index entry. */
  remove(id: string): boolean {
    const node = this.graph.get(id);
    if (!node) return false;
    this.retriever.drop(node);
    return this.graph.remove(id);
  }

  /** Adds an edge between two existing nodes. */
  link(edge: MemEdge): void {
    for (const id of [edge.from, edge.to]) {
      if (!this.graph.has(id)) throw new CarError("not_found", "memgine", `no node with id ${id}`, { id });
    }
    if (edge.from === edge.to) throw new CarError("invalid_input", "memgine", "an edge cannot join a node to itself", { id: edge.from });
    this.graph.addEdge(edge);
  }

  /**
   * Writes what changed to the store (in order with earlier writes). When the write fails the
   * error is thrown and the changes are kept, so the next commit writes them again.
   */
  async commit(): Promise<void> {
    if (!this.store) {
      this.graph.takeChanges();
      return;
    }
    const changes = this.graph.takeChanges();
    try {
      await this.store.write(changes);
    } catch (err) {
      this.graph.restoreChanges(changes);
      throw err;
    }
  }

  /** Replaces the whole graph with `nodes` and `edges` (already validated). */
  replaceAll(nodes: readonly MemNode[], edges: readonly MemEdge[]): void {
    this.graph.clear();
    const sorted = [...nodes].sort((a, b) => a.seq - b.seq);
    for (const n of sorted) this.graph.put(n);
    for (const e of edges) this.graph.addEdge(e);
    this.seq = sorted.length > 0 ? sorted[sorted.length - 1]!.seq + 1 : 0;
    this.retriever.rebuild();
  }

  /** The inference function, or a clear error naming what needed it. */
  requireInference(what: string): InferenceFn {
    if (!this.infer) {
      throw new CarError("unsupported", "memgine:skills", `${what} needs an inference function; none is configured (pass \`infer\` to the Memgine or call setInference)`);
    }
    return this.infer;
  }
}
