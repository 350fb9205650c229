import { cloneValue } from "./canonical-json.ts";

/** A snapshot of the whole state: key → value. */
export type StateSnapshot = Record<string, unknown>;

/**
 * The runtime's key-value state. Values are deep-copied in and out so that a caller can never
 * mutate committed state behind the runtime's back (rollback depends on it).
 */
export class StateStore {
  private data = new Map<string, unknown>();

  constructor(initial?: StateSnapshot) {
    if (initial) this.restore(initial);
  }

  /** The value at `key`, or `null` when absent. */
  get(key: string): unknown {
    return this.data.has(key) ? cloneValue(this.data.get(key)) : null;
  }

  set(key: string, value: unknown): void {
    this.data.set(key, cloneValue(value === undefined ? null : value));
  }

  exists(key: string): boolean {
    return this.data.has(key);
  }

  /** Returns whether the key existed. */
  delete(key: string): boolean {
    return this.data.delete(key);
  }

  /** Every key, sorted. */
  keys(): string[] {
    return [...this.data.keys()].sort();
  }

  /** A deep copy of the whole state with keys in sorted order. */
  snapshot(): StateSnapshot {
    const out: StateSnapshot = {};
    for (const k of this.keys()) out[k] = cloneValue(this.data.get(k));
    return out;
  }

  /** Replaces the whole state with `snap`. */
  restore(snap: StateSnapshot): void {
    this.data = new Map(Object.entries(snap).map(([k, v]) => [k, cloneValue(v)]));
  }
}
