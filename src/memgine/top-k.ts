/**
 * Keeps the `k` highest-scoring keys seen, in O(n log k): a min-heap whose root is the weakest
 * of the current best. Ties keep the key offered first.
 */
export class TopK {
  private readonly keys: number[] = [];
  private readonly scores: number[] = [];
  private readonly order: number[] = [];
  private seq = 0;

  constructor(private readonly k: number) {}

  get size(): number {
    return this.keys.length;
  }

  offer(key: number, score: number): void {
    const seq = this.seq++;
    if (this.keys.length < this.k) {
      this.keys.push(key);
      this.scores.push(score);
      this.order.push(seq);
      this.up(this.keys.length - 1);
    } else if (this.k > 0 && score > this.scores[0]!) {
      this.keys[0] = key;
      this.scores[0] = score;
      this.order[0] = seq;
      this.down(0);
    }
  }

  /** Best first. */
  sorted(): Array<{ key: number; score: number }> {
    const out = this.keys.map((key, i) => ({ key, score: this.scores[i]!, seq: this.order[i]! }));
    out.sort((a, b) => b.score - a.score || a.seq - b.seq);
    return out.map(({ key, score }) => ({ key, score }));
  }

  // "Weaker" = lower score, or equal score offered later.
  private weaker(i: number, j: number): boolean {
    const si = this.scores[i]!;
    const sj = this.scores[j]!;
    return si < sj || (si === sj && this.order[i]! > this.order[j]!);
  }

  private swap(i: number, j: number): void {
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
    [this.scores[i], this.scores[j]] = [this.scores[j]!, this.scores[i]!];
    [this.order[i], this.order[j]] = [this.order[j]!, this.order[i]!];
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.weaker(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.weaker(l, m)) m = l;
      if (r < n && this.weaker(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}
