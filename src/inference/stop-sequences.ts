/** Cuts generated text at the first stop sequence while streaming, holding back possible prefixes. */
export class StopSequenceFilter {
  private buffer = "";
  private stopped = false;

  constructor(private readonly stops: string[]) {}

  /** Feeds a delta; returns the text safe to emit and whether a stop sequence was hit. */
  push(delta: string): { emit: string; stopped: boolean } {
    if (this.stopped) return { emit: "", stopped: true };
    if (this.stops.length === 0) return { emit: delta, stopped: false };
    this.buffer += delta;
    let cut = -1;
    for (const s of this.stops) {
      const i = this.buffer.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.stopped = true;
      const emit = this.buffer.slice(0, cut);
      this.buffer = "";
      return { emit, stopped: true };
    }
    // Keep the longest tail that could still grow into a stop sequence.
    let hold = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, this.buffer.length); n > hold; n--) {
        if (this.buffer.endsWith(s.slice(0, n))) {
          hold = n;
          break;
        }
      }
    }
    const emit = this.buffer.slice(0, this.buffer.length - hold);
    this.buffer = this.buffer.slice(this.buffer.length - hold);
    return { emit, stopped: false };
  }

  /** Whether a stop sequence was hit. */
  get hit(): boolean {
    return this.stopped;
  }

  /** Text still held back when generation ends without a stop. */
  flush(): string {
    const rest = this.stopped ? "" : this.buffer;
    this.buffer = "";
    return rest;
  }
}
