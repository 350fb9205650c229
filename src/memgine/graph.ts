import type { EdgeKind, FactNode, MemEdge, MemNode, NodeKind } from "./model.ts";
import { isActiveFact, subjectKey } from "./model.ts";

/** What changed since the last `takeChanges()`, for write-through to Storage. */
export interface GraphChanges {
  puts: MemNode[];
  deletes: string[];
  edgePuts: MemEdge[];
  edgeDeletes: string[];
}

/** The storage key part of an edge. Ids never contain `|` (NodeIdSchema). */
export function edgeKey(from: string, kind: EdgeKind, to: string): string {
  return `${from}|${kind}|${to}`;
}

/**
 * Nodes and typed edges with adjacency both ways, an index of active facts by subject, and a
 * record of changes so a store can write only what moved.
 */
export class MemGraph {
  private readonly nodes = new Map<string, MemNode>();
  private readonly edges = new Map<string, MemEdge>();
  private readonly out = new Map<string, MemEdge[]>();
  private readonly in = new Map<string, MemEdge[]>();
  private readonly byType = new Map<NodeKind, Set<string>>();
  private readonly activeBySubject = new Map<string, string>();
  private readonly constraints = new Set<string>();
  private activeFacts = 0;
  /** Fact ids in creation order; removed ids are skipped and compacted lazily. */
  private factLog: string[] = [];
  private factLogDead = 0;

  private dirty = new Set<string>();
  private removed = new Set<string>();
  private dirtyEdges = new Set<string>();
  private removedEdges = new Set<string>();

  get size(): number {
    return this.nodes.size;
  }

  /** Facts not superseded. */
  get activeFactCount(): number {
    return this.activeFacts;
  }

  get(id: string): MemNode | undefined {
    return this.nodes.get(id);
  }

  has(id: string): boolean {
    return this.nodes.has(id);
  }

  /** Ids of every node of one type, in insertion order. */
  idsOf(type: NodeKind): ReadonlySet<string> {
    return this.byType.get(type) ?? new Set();
  }

  /** Every node of one type, in insertion order. */
  *nodesOf<T extends MemNode["type"]>(type: T): Generator<Extract<MemNode, { type: T }>> {
    for (const id of this.idsOf(type)) yield this.nodes.get(id) as Extract<MemNode, { type: T }>;
  }

  /** The active fact with this subject, if any. */
  activeFactFor(subject: string): FactNode | undefined {
    const id = this.activeBySubject.get(subjectKey(subject));
    const n = id === undefined ? undefined : this.nodes.get(id);
    return n && isActiveFact(n) ? n : undefined;
  }

  /** Ids of active `constraint` facts, oldest first. */
  activeConstraintIds(): ReadonlySet<string> {
    return this.constraints;
  }

  /** Facts (active or not) newest first. */
  *factsNewestFirst(): Generator<FactNode> {
    for (let i = this.factLog.length - 1; i >= 0; i--) {
      const n = this.nodes.get(this.factLog[i]!);
      if (n?.type === "fact") yield n;
    }
  }

  /** Inserts or replaces a node. */
  put(node: MemNode): void {
    const prev = this.nodes.get(node.id);
    if (prev && prev.type !== node.type) throw new Error(`node ${node.id} changes type`);
    if (prev?.type === "fact") this.unindexSubject(prev);
    if (prev && isActiveFact(prev)) this.activeFacts--;
    if (isActiveFact(node)) this.activeFacts++;
    this.nodes.set(node.id, node);
    if (!prev) {
      let set = this.byType.get(node.type);
      if (!set) this.byType.set(node.type, (set = new Set()));
      set.add(node.id);
      if (node.type === "fact") this.factLog.push(node.id);
    }
    if (node.type === "fact" && isActiveFact(node)) {
      this.activeBySubject.set(subjectKey(node.subject), node.id);
      if (node.kind === "constraint") this.constraints.add(node.id);
    }
    this.dirty.add(node.id);
    this.removed.delete(node.id);
  }

  /** Removes a node and every edge touching it. Returns whether it existed. */
  remove(id: string): boolean {
    const node = this.nodes.get(id);
    if (!node) return false;
    for (const e of [...(this.out.get(id) ?? []), ...(this.in.get(id) ?? [])]) this.removeEdge(e.from, e.kind, e.to);
    if (node.type === "fact") {
      if (isActiveFact(node)) this.activeFacts--;
      this.unindexSubject(node);
      this.factLogDead++;
      if (this.factLogDead > 64 && this.factLogDead * 2 > this.factLog.length) this.compactFactLog(id);
    }
    this.nodes.delete(id);
    this.byType.get(node.type)?.delete(id);
    this.out.delete(id);
    this.in.delete(id);
    this.dirty.delete(id);
    this.removed.add(id);
    return true;
  }

  /** Adds (or re-weights) an edge between two existing nodes. */
  addEdge(edge: MemEdge): void {
    const key = edgeKey(edge.from, edge.kind, edge.to);
    const prev = this.edges.get(key);
    if (prev) {
      prev.weight = edge.weight;
    } else {
      const e = { ...edge };
      this.edges.set(key, e);
      push(this.out, e.from, e);
      push(this.in, e.to, e);
    }
    this.dirtyEdges.add(key);
    this.removedEdges.delete(key);
  }

  removeEdge(from: string, kind: EdgeKind, to: string): boolean {
    const key = edgeKey(from, kind, to);
    const e = this.edges.get(key);
    if (!e) return false;
    this.edges.delete(key);
    pull(this.out, from, e);
    pull(this.in, to, e);
    this.dirtyEdges.delete(key);
    this.removedEdges.add(key);
    return true;
  }

  edgesFrom(id: string): readonly MemEdge[] {
    return this.out.get(id) ?? [];
  }

  edgesTo(id: string): readonly MemEdge[] {
    return this.in.get(id) ?? [];
  }

  allNodes(): IterableIterator<MemNode> {
    return this.nodes.values();
  }

  allEdges(): IterableIterator<MemEdge> {
    return this.edges.values();
  }

  get edgeCount(): number {
    return this.edges.size;
  }

  /** Drops everything (recorded as deletions). */
  clear(): void {
    for (const id of this.nodes.keys()) this.removed.add(id);
    for (const key of this.edges.keys()) this.removedEdges.add(key);
    this.nodes.clear();
    this.edges.clear();
    this.out.clear();
    this.in.clear();
    this.byType.clear();
    this.activeBySubject.clear();
    this.constraints.clear();
    this.activeFacts = 0;
    this.factLog = [];
    this.factLogDead = 0;
    this.dirty.clear();
    this.dirtyEdges.clear();
  }

  /** Returns and forgets what changed since the last call. */
  takeChanges(): GraphChanges {
    const changes: GraphChanges = {
      puts: [...this.dirty].map((id) => this.nodes.get(id)!),
      deletes: [...this.removed],
      edgePuts: [...this.dirtyEdges].map((k) => this.edges.get(k)!),
      edgeDeletes: [...this.removedEdges],
    };
    this.dirty = new Set();
    this.removed = new Set();
    this.dirtyEdges = new Set();
    this.removedEdges = new Set();
    return changes;
  }

  /** Puts back changes whose write failed, so the next write retries them (newer state wins). */
  restoreChanges(changes: GraphChanges): void {
    for (const n of changes.puts) if (this.nodes.has(n.id)) this.dirty.add(n.id);
    for (const id of changes.deletes) if (!this.nodes.has(id)) this.removed.add(id);
    for (const e of changes.edgePuts) {
      const key = edgeKey(e.from, e.kind, e.to);
      if (this.edges.has(key)) this.dirtyEdges.add(key);
    }
    for (const key of changes.edgeDeletes) if (!this.edges.has(key)) this.removedEdges.add(key);
  }

  private unindexSubject(fact: FactNode): void {
    this.constraints.delete(fact.id);
    const key = subjectKey(fact.subject);
    if (this.activeBySubject.get(key) === fact.id) this.activeBySubject.delete(key);
  }

  private compactFactLog(removing: string): void {
    this.factLog = this.factLog.filter((id) => id !== removing && this.nodes.has(id));
    this.factLogDead = 0;
  }
}

function push(map: Map<string, MemEdge[]>, id: string, e: MemEdge): void {
  const list = map.get(id);
  if (list) list.push(e);
  else map.set(id, [e]);
}

function pull(map: Map<string, MemEdge[]>, id: string, e: MemEdge): void {
  const list = map.get(id);
  if (!list) return;
  const i = list.indexOf(e);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) map.delete(id);
}
