import type { Action } from "../ir/action.ts";
import type { ToolSchema } from "../ir/tool-schema.ts";
import { canonicalJson, cloneValue } from "./canonical-json.ts";
import type { Clock } from "./clock.ts";
import { paramsDigest } from "./digest.ts";
import type { MiddlewareContext, ToolMiddleware } from "./hooks.ts";
import type { ToolCall, ToolRegistry } from "./tools.ts";

/** Settings of the result cache. */
export interface ResultCacheOptions {
  /** TTL of entries for idempotent tools/actions that declare no `cache_ttl_secs` (default 300 s). */
  defaultTtlSecs?: number;
  /** Most entries kept; the oldest are evicted past it (default 10,000). */
  maxEntries?: number;
}

interface Entry {
  output: unknown;
  storedAt: number;
  expiresAt: number;
  origin: { proposal_id: string; action_id: string };
}

/** The TTL (s) a call may be cached for, or undefined when it must not be cached (reference §4.6). */
export function cacheTtlSecs(schema: ToolSchema | undefined, action: Action, defaultTtlSecs: number): number | undefined {
  if (action.invocation_mode !== "one_shot") return undefined;
  if (schema?.cache_ttl_secs !== undefined) return schema.cache_ttl_secs > 0 ? schema.cache_ttl_secs : undefined;
  return schema?.idempotent || action.idempotent ? defaultTtlSecs : undefined;
}

/**
 * Caches outputs of idempotent tools/actions, keyed by tool + canonical parameters, and joins
 * identical calls already in flight. A hit or a join emits `action_deduplicated` and is not
 * counted in `tool_calls`. Failures are never cached; entries expire on the injected clock.
 */
export class ResultCache {
  private entries = new Map<string, Entry>();
  private inflight = new Map<string, { promise: Promise<unknown>; origin: Entry["origin"] }>();
  private readonly defaultTtlSecs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly clock: Clock,
    private readonly tools: ToolRegistry,
    options: ResultCacheOptions = {},
  ) {
    this.defaultTtlSecs = options.defaultTtlSecs ?? 300;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** Entries currently held (expired ones included until touched). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops every entry. */
  clear(): void {
    this.entries.clear();
  }

  middleware(): ToolMiddleware {
    // Not async: calls that may not be cached (most) go straight on without a promise of their own.
    return (call, action, next, ctx) => {
      const ttl = cacheTtlSecs(this.tools.schema(call.tool), action, this.defaultTtlSecs);
      if (ttl === undefined) return next(call);
      return this.cachedCall(call, ttl, next, ctx);
    };
  }

  private async cachedCall(call: ToolCall, ttl: number, next: (call: ToolCall) => Promise<unknown>, ctx: MiddlewareContext): Promise<unknown> {
    const key = `${call.tool}\u0000${canonicalJson(call.parameters)}`;
    const now = this.clock.now();
    const base = { attempt: call.attempt, tool: call.tool, cache_key: paramsDigest(key) };
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) {
      ctx.emit({ kind: "action_deduplicated", data: { ...base, hit: "cache", origin: hit.origin, age_ms: now - hit.storedAt } });
      return cloneValue(hit.output);
    }
    if (hit) this.entries.delete(key);
    const flying = this.inflight.get(key);
    if (flying) {
      ctx.emit({ kind: "action_deduplicated", data: { ...base, hit: "in_flight", origin: flying.origin, age_ms: 0 } });
      return cloneValue(await flying.promise);
    }
    const origin = { proposal_id: call.proposal_id, action_id: call.action_id };
    const promise = next(call);
    this.inflight.set(key, { promise, origin });
    try {
      const output = await promise;
      this.store(key, { output: cloneValue(output), storedAt: this.clock.now(), expiresAt: this.clock.now() + ttl * 1000, origin });
      return output;
    } finally {
      this.inflight.delete(key);
    }
  }

  private store(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
