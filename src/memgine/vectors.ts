import { CarError } from "../errors.ts";
import { TopK } from "./top-k.ts";
import type { ScoredDoc } from "./inverted-index.ts";

/**
 * An embedding backend: one vector per input text, all of the same length. The inference layer
 * plugs its `embed` here (`memgine.setEmbedder(fn)`).
 */
export type Embedder = (texts: string[]) => Promise<ArrayLike<number>[]>;

/** Texts sent to the embedder per call when flushing. */
export const EMBED_BATCH_SIZE = 64;

/**
 * Unit-length vectors of indexed documents. Texts are queued when added and embedded in batches
 * on the next full query ("flush"), so adding facts never waits on a model.
 */
export class VectorStore {
  private readonly vecs = new Map<string, Float32Array>();
  private readonly pending = new Map<string, string>();
  private dims: number | undefined;

  get pendingCount(): number {
    return this.pending.size;
  }

  get size(): number {
    return this.vecs.size;
  }

  queue(id: string, text: string): void {
    this.vecs.delete(id);
    this.pending.set(id, text);
  }

  drop(id: string): void {
    this.vecs.delete(id);
    this.pending.delete(id);
  }

  clear(): void {
    this.vecs.clear();
    this.pending.clear();
    this.dims = undefined;
  }

  /** Forgets every vector (the embedder changed) and queues `texts` again. */
  reset(texts: Iterable<[string, string]>): void {
    this.clear();
    for (const [id, text] of texts) this.pending.set(id, text);
  }

  /** Embeds every queued text. */
  async flush(embedder: Embedder): Promise<void> {
    while (this.pending.size > 0) {
      const batch: Array<[string, string]> = [];
      for (const entry of this.pending) {
        batch.push(entry);
        if (batch.length === EMBED_BATCH_SIZE) break;
      }
      const vectors = await callEmbedder(embedder, batch.map(([, t]) => t));
      batch.forEach(([id, text], i) => {
        // A document re-queued or dropped while the model ran keeps its newer state.
        if (this.pending.get(id) !== text) return;
        this.pending.delete(id);
        this.vecs.set(id, this.normalize(vectors[i]!));
      });
    }
  }

  /** The unit vector of a query text. */
  async embedQuery(embedder: Embedder, text: string): Promise<Float32Array> {
    const [v] = await callEmbedder(embedder, [text]);
    return this.normalize(v!);
  }

  /** Cosine similarity of a document with a query vector, or undefined when not embedded. */
  similarity(id: string, q: Float32Array): number | undefined {
    const v = this.vecs.get(id);
    return v ? dot(v, q) : undefined;
  }

  /** The `limit` most similar documents by brute force (used only when the index finds too few). */
  scan(q: Float32Array, limit: number, accept: (id: string) => boolean): ScoredDoc[] {
    const ids: string[] = [];
    const top = new TopK(limit);
    for (const [id, v] of this.vecs) {
      if (!accept(id)) continue;
      top.offer(ids.length, dot(v, q));
      ids.push(id);
    }
    return top.sorted().map(({ key, score }) => ({ id: ids[key]!, score }));
  }

  private normalize(raw: ArrayLike<number>): Float32Array {
    if (this.dims === undefined) this.dims = raw.length;
    if (raw.length !== this.dims || raw.length === 0) {
      throw new CarError("invalid_input", "memgine:embed", `embedder returned a vector of length ${raw.length}, expected ${this.dims}`);
    }
    const v = Float32Array.from(raw);
    let norm = 0;
    for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm);
    if (!Number.isFinite(norm)) throw new CarError("invalid_input", "memgine:embed", "embedder returned a non-finite vector");
    if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
    return v;
  }
}

async function callEmbedder(embedder: Embedder, texts: string[]): Promise<ArrayLike<number>[]> {
  let out: ArrayLike<number>[];
  try {
    out = await embedder(texts);
  } catch (err) {
    if (err instanceof CarError) throw err;
    throw new CarError("internal", "memgine:embed", `embedder failed: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
  }
  if (!Array.isArray(out) || out.length !== texts.length) {
    throw new CarError("invalid_input", "memgine:embed", `embedder returned ${Array.isArray(out) ? out.length : "no"} vectors for ${texts.length} texts`);
  }
  return out;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
