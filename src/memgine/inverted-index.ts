import { TopK } from "./top-k.ts";

/** BM25 parameters. */
export interface Bm25Settings {
  /** Term-frequency saturation. Default 1.2. */
  k1: number;
  /** Length normalisation. Default 0.75. */
  b: number;
}

export const DEFAULT_BM25: Bm25Settings = { k1: 1.2, b: 0.75 };

/**
 * Abbreviation matching: a query term also matches indexed terms that are its prefixes
 * ("language" → "lang", "configuration" → "config"), at a discount.
 */
export interface PrefixSettings {
  /** Shortest prefix considered, in characters. Default 3. */
  minChars: number;
  /** Shortest prefix as a share of the query term's length. Default 0.4. */
  minRatio: number;
  /** Weight of a prefix match relative to an exact one. Default 0.5; 0 turns it off. */
  weight: number;
}

export const DEFAULT_PREFIX: PrefixSettings = { minChars: 3, minRatio: 0.4, weight: 0.5 };

/** A term's postings: parallel growable arrays of document slots and weighted term counts. */
interface PostingList {
  docs: Int32Array;
  tfs: Float32Array;
  len: number;
  /** Postings whose document was removed; compacted lazily. */
  dead: number;
}

/** One scored document. */
export interface ScoredDoc {
  id: string;
  score: number;
}

/**
 * An inverted index scored with BM25. A query touches only the postings of its own terms, never
 * every document. Slots are never reused, so a stale posting can never point at a new document.
 */
export class InvertedIndex {
  private readonly postings = new Map<string, PostingList>();
  private readonly slotOf = new Map<string, number>();
  private ids: string[] = [];
  private live = new Uint8Array(1024);
  private docLen = new Float32Array(1024);
  private scores = new Float64Array(1024);
  private touched = new Int32Array(1024);
  private liveCount = 0;
  private totalLen = 0;

  constructor(private readonly bm25: Bm25Settings = DEFAULT_BM25) {}

  /** Documents currently indexed. */
  get size(): number {
    return this.liveCount;
  }

  /** Slots ever allocated (live or not); `rebuild` when much larger than `size`. */
  get slots(): number {
    return this.ids.length;
  }

  has(id: string): boolean {
    return this.slotOf.has(id);
  }

  /**
   * The query's terms plus indexed terms that are prefixes of them (at a discount). Costs one
   * dictionary lookup per prefix length, never a scan of the dictionary.
   */
  expand(terms: ReadonlyMap<string, number>, prefix: PrefixSettings = DEFAULT_PREFIX): Map<string, number> {
    const out = new Map(terms);
    if (prefix.weight <= 0) return out;
    for (const [term, qw] of terms) {
      const shortest = Math.max(prefix.minChars, Math.ceil(term.length * prefix.minRatio));
      for (let len = term.length - 1; len >= shortest; len--) {
        const p = term.slice(0, len);
        if (this.docFreq(p) === 0) continue;
        out.set(p, Math.max(out.get(p) ?? 0, qw * prefix.weight));
      }
    }
    return out;
  }

  /** Number of live documents holding `term`. */
  docFreq(term: string): number {
    const pl = this.postings.get(term);
    return pl ? pl.len - pl.dead : 0;
  }

  /** Indexes a document given its term → weighted count map. Re-adding an id replaces it. */
  add(id: string, terms: ReadonlyMap<string, number>, oldTerms?: ReadonlyMap<string, number>): void {
    if (this.slotOf.has(id)) this.remove(id, oldTerms ?? new Map());
    const slot = this.ids.length;
    this.ids.push(id);
    this.ensureCapacity(slot + 1);
    this.slotOf.set(id, slot);
    let len = 0;
    for (const [term, tf] of terms) {
      let pl = this.postings.get(term);
      if (!pl) this.postings.set(term, (pl = { docs: new Int32Array(4), tfs: new Float32Array(4), len: 0, dead: 0 }));
      if (pl.len === pl.docs.length) {
        const docs = new Int32Array(pl.docs.length * 2);
        docs.set(pl.docs);
        const tfs = new Float32Array(pl.tfs.length * 2);
        tfs.set(pl.tfs);
        pl.docs = docs;
        pl.tfs = tfs;
      }
      pl.docs[pl.len] = slot;
      pl.tfs[pl.len] = Math.min(tf, 65535);
      pl.len++;
      len += tf;
    }
    this.live[slot] = 1;
    this.docLen[slot] = len;
    this.liveCount++;
    this.totalLen += len;
    // Replaced and removed documents leave dead slots; renumber once they outweigh live ones.
    if (this.ids.length > 2 * this.liveCount + 1024) this.compactSlots();
  }

  /** Renumbers live documents densely and drops dead postings (no re-tokenizing). */
  compactSlots(): void {
    const remap = new Int32Array(this.ids.length).fill(-1);
    const ids: string[] = [];
    for (let slot = 0; slot < this.ids.length; slot++) {
      if (this.live[slot] === 0) continue;
      remap[slot] = ids.length;
      ids.push(this.ids[slot]!);
    }
    const live = new Uint8Array(Math.max(1024, this.live.length));
    const docLen = new Float32Array(live.length);
    for (let slot = 0; slot < this.ids.length; slot++) {
      const to = remap[slot]!;
      if (to < 0) continue;
      live[to] = 1;
      docLen[to] = this.docLen[slot]!;
    }
    for (const [term, pl] of this.postings) {
      let j = 0;
      for (let i = 0; i < pl.len; i++) {
        const to = remap[pl.docs[i]!]!;
        if (to < 0) continue;
        pl.docs[j] = to;
        pl.tfs[j] = pl.tfs[i]!;
        j++;
      }
      pl.len = j;
      pl.dead = 0;
      if (j === 0) this.postings.delete(term);
    }
    this.ids = ids;
    this.live = live;
    this.docLen = docLen;
    this.slotOf.clear();
    ids.forEach((id, slot) => this.slotOf.set(id, slot));
  }

  /**
   * Removes a document. `terms` are the terms it was indexed with (the caller re-tokenizes its
   * text rather than the index keeping a copy of every document's terms).
   */
  remove(id: string, terms: ReadonlyMap<string, number>): boolean {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return false;
    this.slotOf.delete(id);
    this.live[slot] = 0;
    this.liveCount--;
    this.totalLen -= this.docLen[slot]!;
    for (const term of terms.keys()) {
      const pl = this.postings.get(term);
      if (!pl) continue;
      pl.dead++;
      if (pl.dead === pl.len) this.postings.delete(term);
    }
    return true;
  }

  /** Drops everything. */
  clear(): void {
    this.postings.clear();
    this.slotOf.clear();
    this.ids = [];
    this.live = new Uint8Array(1024);
    this.docLen = new Float32Array(1024);
    this.liveCount = 0;
    this.totalLen = 0;
  }

  /** The `limit` best documents for the query terms, best first. */
  search(queryTerms: ReadonlyMap<string, number>, limit: number): ScoredDoc[] {
    if (this.liveCount === 0 || limit <= 0) return [];
    const { k1, b } = this.bm25;
    const n = this.liveCount;
    const avgdl = this.totalLen / n || 1;
    const lenA = k1 * (1 - b);
    const lenB = (k1 * b) / avgdl;
    const scores = this.scores;
    const touched = this.touched;
    const live = this.live;
    const docLen = this.docLen;
    let nTouched = 0;
    for (const [term, qw] of queryTerms) {
      const pl = this.postings.get(term);
      if (!pl) continue;
      if (pl.dead > 16 && pl.dead * 4 > pl.len) this.compact(pl);
      const df = pl.len - pl.dead;
      if (df <= 0) continue;
      const w = Math.log(1 + (n - df + 0.5) / (df + 0.5)) * (k1 + 1) * qw;
      const docs = pl.docs;
      const tfs = pl.tfs;
      for (let i = 0, len = pl.len; i < len; i++) {
        const d = docs[i]!;
        if (live[d] === 0) continue;
        const tf = tfs[i]!;
        if (scores[d] === 0) touched[nTouched++] = d;
        scores[d]! += (w * tf) / (tf + lenA + lenB * docLen[d]!);
      }
    }
    const top = new TopK(limit);
    for (let i = 0; i < nTouched; i++) {
      const d = touched[i]!;
      top.offer(d, scores[d]!);
      scores[d] = 0;
    }
    return top.sorted().map(({ key, score }) => ({ id: this.ids[key]!, score }));
  }

  private compact(pl: PostingList): void {
    let j = 0;
    for (let i = 0; i < pl.len; i++) {
      const d = pl.docs[i]!;
      if (this.live[d] === 0) continue;
      pl.docs[j] = d;
      pl.tfs[j] = pl.tfs[i]!;
      j++;
    }
    pl.len = j;
    pl.dead = 0;
  }

  private ensureCapacity(n: number): void {
    if (n <= this.live.length) return;
    let cap = this.live.length;
    while (cap < n) cap *= 2;
    const live = new Uint8Array(cap);
    live.set(this.live);
    this.live = live;
    const docLen = new Float32Array(cap);
    docLen.set(this.docLen);
    this.docLen = docLen;
    this.scores = new Float64Array(cap);
    this.touched = new Int32Array(cap);
  }
}
