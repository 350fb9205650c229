import { CarError } from "../errors.ts";
import type { JsonValue } from "../ir/json.ts";
import type { BatchOp, Storage } from "../storage/storage.ts";
import { edgeKey, type GraphChanges } from "./graph.ts";
import { EdgeKindSchema, MemNodeSchema, NodeIdSchema, type MemEdge, type MemNode } from "./model.ts";

/** Version of the per-node storage layout. A newer one on disk is refused (fail closed). */
export const GRAPH_STORE_VERSION = 1;

/**
 * Write-through persistence of one memory graph in a Storage, one key per node and per edge under
 * a prefix (`<prefix>n/<id>`, `<prefix>e/<from>|<kind>|<to>`, `<prefix>meta`), so a change writes
 * only what moved. Writes are applied in the order they were made.
 */
export class GraphStore {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly storage: Storage,
    readonly prefix: string,
  ) {}

  /** Reads every node and edge under the prefix. */
  async load(): Promise<{ nodes: MemNode[]; edges: MemEdge[] }> {
    await this.chain;
    const meta = await this.storage.get(this.prefix + "meta");
    if (meta !== undefined) checkMeta(meta, this.prefix);
    const nodes: MemNode[] = [];
    const edges: MemEdge[] = [];
    for (const key of await this.storage.list(this.prefix)) {
      const rest = key.slice(this.prefix.length);
      if (rest.startsWith("n/")) {
        const value = await this.storage.get(key);
        const parsed = MemNodeSchema.safeParse(value);
        if (!parsed.success) throw corrupted(key, parsed.error.issues[0]?.message ?? "bad node");
        nodes.push(parsed.data);
      } else if (rest.startsWith("e/")) {
        const [from, kind, to] = rest.slice(2).split("|");
        const weight = await this.storage.get(key);
        const k = EdgeKindSchema.safeParse(kind);
        if (!NodeIdSchema.safeParse(from).success || !NodeIdSchema.safeParse(to).success || !k.success || typeof weight !== "number") {
          throw corrupted(key, "bad edge");
        }
        edges.push({ from: from!, kind: k.data, to: to!, weight });
      }
    }
    const ids = new Set(nodes.map((n) => n.id));
    for (const e of edges) if (!ids.has(e.from) || !ids.has(e.to)) throw corrupted(`${this.prefix}e/${edgeKey(e.from, e.kind, e.to)}`, "edge to a missing node");
    return { nodes, edges };
  }

  /** Applies one set of changes atomically, after every earlier write. */
  write(changes: GraphChanges): Promise<void> {
    const ops: BatchOp[] = [];
    for (const id of changes.deletes) ops.push({ op: "delete", key: this.nodeKey(id) });
    for (const k of changes.edgeDeletes) ops.push({ op: "delete", key: this.prefix + "e/" + k });
    for (const n of changes.puts) ops.push({ op: "set", key: this.nodeKey(n.id), value: n as unknown as JsonValue });
    for (const e of changes.edgePuts) ops.push({ op: "set", key: this.prefix + "e/" + edgeKey(e.from, e.kind, e.to), value: e.weight });
    if (ops.length === 0) return this.chain;
    return this.enqueue(async () => {
      ops.push({ op: "set", key: this.prefix + "meta", value: { format: "car-memgine", schema_version: GRAPH_STORE_VERSION } });
      await this.storage.batch(ops);
    });
  }

  /** Replaces everything under the prefix with this graph, atomically. */
  replaceAll(nodes: readonly MemNode[], edges: readonly MemEdge[]): Promise<void> {
    return this.enqueue(async () => {
      const existing = await this.storage.list(this.prefix);
      const ops: BatchOp[] = existing.map((key) => ({ op: "delete", key }));
      ops.push({ op: "set", key: this.prefix + "meta", value: { format: "car-memgine", schema_version: GRAPH_STORE_VERSION } });
      for (const n of nodes) ops.push({ op: "set", key: this.nodeKey(n.id), value: n as unknown as JsonValue });
      for (const e of edges) ops.push({ op: "set", key: this.prefix + "e/" + edgeKey(e.from, e.kind, e.to), value: e.weight });
      await this.storage.batch(ops);
    });
  }

  private nodeKey(id: string): string {
    return this.prefix + "n/" + id;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    // A failed write is reported to its caller; later writes still run.
    this.chain = run.catch(() => undefined);
    return run;
  }
}

function checkMeta(meta: unknown, prefix: string): void {
  const m = meta as { format?: unknown; schema_version?: unknown } | null;
  if (typeof m !== "object" || m === null || m.format !== "car-memgine" || typeof m.schema_version !== "number") {
    throw corrupted(prefix + "meta", "not a car-memgine graph");
  }
  if (m.schema_version > GRAPH_STORE_VERSION) {
    throw new CarError("corrupted", "memgine:store", `graph under ${prefix} has schema_version ${m.schema_version}; this build reads up to ${GRAPH_STORE_VERSION}`);
  }
}

function corrupted(key: string, why: string): CarError {
  return new CarError("corrupted", "memgine:store", `unreadable memory entry ${key}: ${why}`, { key });
}
