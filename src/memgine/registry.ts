import { CarError } from "../errors.ts";
import type { Storage } from "../storage/storage.ts";
import { GraphStore } from "./graph-store.ts";
import type { InferenceFn } from "./core.ts";
import { Memgine, type MemgineOptions } from "./memgine.ts";

/** Longest memory namespace or agent id accepted. */
export const MAX_NAMESPACE_CHARS = 256;

/** Storage key prefix of every memory graph. */
export const MEMORY_KEY_PREFIX = "memgine/";

/**
 * Lower-case percent-encoding of a namespace's UTF-8 bytes; only `a-z 0-9 - _ .` pass through,
 * so distinct names always get distinct keys (upper-case letters are encoded too).
 */
export function encodeNamespace(name: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(name)) {
    const ch = String.fromCharCode(byte);
    out += /[a-z0-9._-]/.test(ch) ? ch : "%" + byte.toString(16).padStart(2, "0");
  }
  return out;
}

/** Which graph a session uses: a namespace wins over an agent id; neither = the shared graph. */
export interface MemoryScope {
  memory_namespace?: string | null;
  agent_id?: string | null;
}

/** The storage key prefix (and cache key) of a scope. */
export function scopePrefix(scope: MemoryScope | string | undefined): string {
  const s: MemoryScope = typeof scope === "string" ? { memory_namespace: scope } : (scope ?? {});
  for (const [field, value] of [["memory_namespace", s.memory_namespace], ["agent_id", s.agent_id]] as const) {
    if (value === undefined || value === null || value === "") continue;
    if (typeof value !== "string" || value.length > MAX_NAMESPACE_CHARS) {
      throw new CarError("invalid_input", "memgine", `${field} must be a string of at most ${MAX_NAMESPACE_CHARS} characters`);
    }
    return `${MEMORY_KEY_PREFIX}${field === "memory_namespace" ? "ns" : "agent"}/${encodeNamespace(value)}/`;
  }
  return `${MEMORY_KEY_PREFIX}shared/`;
}

/** Opens the memory graph of one namespace (undefined = the shared graph) stored in `storage`. */
export async function openMemory(storage: Storage, namespace?: string, options: Omit<MemgineOptions, "store" | "namespace"> = {}): Promise<Memgine> {
  const prefix = scopePrefix(namespace);
  return new Memgine({ ...options, namespace, store: new GraphStore(storage, prefix) }).open();
}

/**
 * One Memgine per memory scope over one Storage, opened on first use and shared by every
 * session that names the same scope. Facts of one scope never reach another: each has its own
 * graph, index and key prefix.
 */
export class MemoryRegistry {
  private readonly open = new Map<string, Promise<Memgine>>();

  private readonly options: Omit<MemgineOptions, "store" | "namespace">;

  constructor(
    private readonly storage: Storage,
    options: Omit<MemgineOptions, "store" | "namespace"> = {},
  ) {
    this.options = { ...options };
  }

  /**
   * Sets (or clears) the model call of skill distill/evolve/repair for every scope, open or
   * opened later, e.g. once the daemon's inference engine is ready.
   */
  setInference(infer: InferenceFn | undefined): void {
    if (infer === this.options.infer) return;
    if (infer) this.options.infer = infer;
    else delete this.options.infer;
    for (const m of this.open.values()) void m.then((mem) => mem.setInference(infer), () => undefined);
  }

  /** The Memgine of a scope (a namespace name, a MemoryScope, or undefined for shared). */
  get(scope?: MemoryScope | string): Promise<Memgine> {
    const prefix = scopePrefix(scope);
    let m = this.open.get(prefix);
    if (!m) {
      const name = typeof scope === "string" ? scope : (scope?.memory_namespace || scope?.agent_id || undefined);
      m = new Memgine({ ...this.options, namespace: name ?? undefined, store: new GraphStore(this.storage, prefix) }).open();
      // A failed open is not cached, so the next call tries again.
      m.catch(() => this.open.delete(prefix));
      this.open.set(prefix, m);
    }
    return m;
  }

  /** Scopes opened so far (their storage prefixes). */
  openScopes(): string[] {
    return [...this.open.keys()];
  }
}
