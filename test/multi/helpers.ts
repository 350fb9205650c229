import type { AgentRunContext, AgentRunner, AgentSpec, AgentSpecInput, Clock, CompareAndSetOptions, Storage, StorageValue, BatchOp } from "../../src/index.ts";

/** A spec with defaults. */
export function agent(name: string, extra: Partial<AgentSpecInput> = {}): AgentSpec {
  return { name, system_prompt: `you are ${name}`, tools: [], max_turns: 10, metadata: {}, ...extra } as AgentSpec;
}

export interface Call {
  agent: string;
  task: string;
  role: string;
  pattern: string;
  signal: AbortSignal;
}

/**
 * A deterministic runner: `answer` maps (spec, task, ctx) to an answer string (or a thrown error);
 * every call is recorded in `calls`.
 */
export function scripted(answer: (spec: AgentSpec, task: string, ctx: AgentRunContext) => string | Promise<string>, extra: Record<string, unknown> = {}) {
  const calls: Call[] = [];
  const runner: AgentRunner = async (spec, task, ctx) => {
    calls.push({ agent: spec.name, task, role: ctx.role, pattern: ctx.pattern, signal: ctx.signal });
    const text = await answer(spec, task, ctx);
    return { name: spec.name, answer: text, turns: 1, tool_calls: 0, duration_ms: 1, error: null, ...extra };
  };
  return { runner, calls };
}

/** Resolves once `cond()` holds, checking after each macrotask (fails after `limit` checks rather than hanging). */
export async function until(cond: () => boolean, limit = 1000): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error("condition never held");
}

/** A promise with its resolve function exposed. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A Map-backed Storage for tests; entries with a TTL expire on `clock`. */
export class MapStorage implements Storage {
  readonly map = new Map<string, { value: StorageValue; expires?: number }>();
  constructor(private readonly clock: Clock) {}

  private live(key: string) {
    const e = this.map.get(key);
    if (e && e.expires !== undefined && e.expires <= this.clock.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e;
  }
  async get(key: string) {
    return structuredClone(this.live(key)?.value);
  }
  async set(key: string, value: StorageValue) {
    this.map.set(key, { value: structuredClone(value) });
  }
  async delete(key: string) {
    return this.live(key) !== undefined && this.map.delete(key);
  }
  async has(key: string) {
    return this.live(key) !== undefined;
  }
  async list(prefix = "") {
    return [...this.map.keys()].filter((k) => k.startsWith(prefix) && this.live(k)).sort();
  }
  async batch(ops: BatchOp[]) {
    for (const op of ops) {
      if (op.op === "set") this.map.set(op.key, { value: structuredClone(op.value) });
      else this.map.delete(op.key);
    }
  }
  async compareAndSet(key: string, expected: StorageValue | undefined, value: StorageValue, options: CompareAndSetOptions = {}) {
    const cur = this.live(key)?.value;
    if (JSON.stringify(cur) !== JSON.stringify(expected)) return false;
    this.map.set(key, { value: structuredClone(value), ...(options.ttlMs !== undefined ? { expires: this.clock.now() + options.ttlMs } : {}) });
    return true;
  }
  async close() {}
}
