import type { BatchOp, CompareAndSetOptions, Storage, StorageValue } from "../../src/storage/storage.ts";
import { ManualClock } from "../../src/engine/clock.ts";
import { SeededRandom } from "../../src/engine/random.ts";
import { Memgine, type MemgineOptions } from "../../src/memgine/memgine.ts";

/**
 * A tiny Map-backed Storage for memgine tests (the real adapters live on another branch).
 * Values are deep-copied in and out, like a real store, so tests catch aliasing bugs.
 * `batchCount` counts batches so tests can see writes happen.
 */
export class MapStorage implements Storage {
  readonly map = new Map<string, StorageValue>();
  batchCount = 0;
  /** When set, the next batch fails with this error (to test failure paths). */
  failNextBatch: Error | undefined;

  async get(key: string) {
    const v = this.map.get(key);
    return v === undefined ? undefined : structuredClone(v);
  }
  async set(key: string, value: StorageValue) {
    this.map.set(key, structuredClone(value));
  }
  async delete(key: string) {
    return this.map.delete(key);
  }
  async has(key: string) {
    return this.map.has(key);
  }
  async list(prefix = "") {
    return [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async batch(ops: BatchOp[]) {
    if (this.failNextBatch) {
      const err = this.failNextBatch;
      this.failNextBatch = undefined;
      throw err;
    }
    this.batchCount++;
    for (const op of ops) {
      if (op.op === "set") this.map.set(op.key, structuredClone(op.value));
      else this.map.delete(op.key);
    }
  }
  async compareAndSet(key: string, expected: StorageValue | undefined, value: StorageValue, _options?: CompareAndSetOptions) {
    const cur = this.map.get(key);
    if (JSON.stringify(cur) !== JSON.stringify(expected)) return false;
    this.map.set(key, structuredClone(value));
    return true;
  }
  async close() {}
}

/** A Memgine with a deterministic clock and ids, in memory only unless options say otherwise. */
export function testMemgine(options: MemgineOptions = {}): Memgine {
  return new Memgine({ clock: new ManualClock(), random: new SeededRandom(7), ...options });
}

/** Section titles of a context string, in order of appearance. */
export function sectionTitles(context: string): string[] {
  return [...context.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
}
