import { z } from "zod";
import { CarError } from "../errors.ts";
import { formatPath } from "../ir/parse.ts";
import {
  ConclusionNodeSchema, ConversationNodeSchema, EnvironmentNodeSchema, FactKindSchema, FactNodeSchema, IdentityNodeSchema,
  MemEdgeSchema, NodeIdSchema, SkillNodeSchema, type MemEdge, type MemNode,
} from "./model.ts";

/** Version of the persist/load file format. A newer file is refused (fail closed). */
export const SNAPSHOT_VERSION = 1;

/** A fact in the file: flat (no `type`), so plain fact lists stay readable. */
const FlatFactSchema = FactNodeSchema.omit({ type: true });
const OtherNodeSchema = z.discriminatedUnion("type", [ConclusionNodeSchema, ConversationNodeSchema, IdentityNodeSchema, EnvironmentNodeSchema, SkillNodeSchema]);

/** The whole graph as written by `persist(path)`. */
export const SnapshotSchema = z.object({
  format: z.literal("car-memgine"),
  schema_version: z.number().int().positive(),
  facts: z.array(FlatFactSchema),
  nodes: z.array(OtherNodeSchema),
  edges: z.array(MemEdgeSchema),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

/** A bare list of facts (`[{subject, body, kind?}]`), also accepted by `load` (ingested in order). */
export const LooseFactSchema = z.object({
  id: NodeIdSchema.optional(),
  subject: z.string().min(1),
  body: z.string(),
  kind: FactKindSchema.default("pattern"),
  confidence: z.number().min(0).max(1).default(1),
  tags: z.array(z.string()).default([]),
  source: z.string().nullable().default(null),
});

/** The graph as a snapshot object. */
export function toSnapshot(nodes: Iterable<MemNode>, edges: Iterable<MemEdge>): Snapshot {
  const facts: Snapshot["facts"] = [];
  const others: Snapshot["nodes"] = [];
  for (const n of nodes) {
    if (n.type === "fact") {
      const { type: _type, ...flat } = n;
      facts.push(flat);
    } else others.push(n);
  }
  facts.sort((a, b) => a.seq - b.seq);
  others.sort((a, b) => a.seq - b.seq);
  // Sorted so equal graphs give identical snapshots, whatever order edges were added or loaded in.
  const sortedEdges = [...edges].sort((a, b) => cmp(a.from, b.from) || cmp(a.kind, b.kind) || cmp(a.to, b.to));
  return { format: "car-memgine", schema_version: SNAPSHOT_VERSION, facts, nodes: others, edges: sortedEdges };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type LoadedFile = { kind: "graph"; nodes: MemNode[]; edges: MemEdge[] } | { kind: "facts"; facts: Array<z.infer<typeof LooseFactSchema>> };

/**
 * Parses a persisted file, checking everything before anything is replaced: unknown versions,
 * duplicate ids and edges to missing nodes are refused. A bare fact list comes back as facts to
 * ingest one by one.
 */
export function fromSnapshotText(text: string, path: string): LoadedFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw bad(path, `not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (Array.isArray(json)) return { kind: "facts", facts: parse(z.array(LooseFactSchema), json, path) };
  const version = (json as { schema_version?: unknown } | null)?.schema_version;
  if (typeof version === "number" && version > SNAPSHOT_VERSION) {
    throw new CarError("corrupted", "memgine:files", `${path} has schema_version ${version}; this build reads up to ${SNAPSHOT_VERSION}`);
  }
  const snap = parse(SnapshotSchema, json, path);
  const nodes: MemNode[] = [...snap.facts.map((f): MemNode => ({ ...f, type: "fact" })), ...snap.nodes];
  const edges = snap.edges;
  const ids = new Set<string>();
  for (const n of nodes) {
    if (ids.has(n.id)) throw bad(path, `duplicate node id ${n.id}`);
    ids.add(n.id);
  }
  for (const e of edges) if (!ids.has(e.from) || !ids.has(e.to)) throw bad(path, `edge ${e.from} -${e.kind}-> ${e.to} names a missing node`);
  return { kind: "graph", nodes, edges };
}

function parse<S extends z.ZodType>(schema: S, json: unknown, path: string): z.infer<S> {
  const res = schema.safeParse(json);
  if (res.success) return res.data;
  const issue = res.error.issues[0];
  throw bad(path, `${formatPath(issue?.path ?? [])}: ${issue?.message ?? "invalid"}`);
}

function bad(path: string, why: string): CarError {
  return new CarError("corrupted", "memgine:files", `cannot load ${path}: ${why}`, { path });
}
