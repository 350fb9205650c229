import type { RateLimit } from "../ir/tool-schema.ts";
import { CarError } from "../errors.ts";
import { sleep, type Clock } from "./clock.ts";
import type { ToolMiddleware } from "./hooks.ts";
import type { ToolRegistry } from "./tools.ts";

/** A token bucket: capacity `max_calls`, refilled at `max_calls / interval_secs` tokens per second, starting full. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly perMs: number;

  constructor(
    readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.max_calls;
    this.last = now;
    this.perMs = limit.max_calls / (limit.interval_secs * 1000);
  }

  /** Takes a token at `now` and returns 0, or returns how many ms to wait before one is there. */
  take(now: number): number {
    this.tokens = Math.min(this.limit.max_calls, this.tokens + Math.max(0, now - this.last) * this.perMs);
    this.last = Math.max(this.last, now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perMs));
  }
}

interface Slot {
  bucket: TokenBucket;
  /** Resolves when every earlier waiter has its token: waiters are served in arrival order. */
  tail: Promise<void>;
}

/**
 * Per-tool rate limits from `ToolSchema.rate_limit` (reference §4.5). A call over the limit waits
 * (backpressure) on the injected clock; the wait ends early, with the call's abort reason, when the
 * call is canceled or times out.
 */
export class RateLimiter {
  private slots = new Map<string, Slot>();

  constructor(
    private readonly clock: Clock,
    private readonly tools: ToolRegistry,
  ) {}

  /** Waits for a token of `tool`; returns the ms waited. */
  async acquire(tool: string, limit: RateLimit, signal?: AbortSignal): Promise<number> {
    if (limit.max_calls === 0) throw new CarError("invalid_input", "rate-limit", `tool ${tool} has rate_limit.max_calls 0: no call can ever run`);
    const slot = this.slot(tool, limit);
    const start = this.clock.now();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const before = slot.tail;
    slot.tail = before.then(() => mine);
    try {
      await abortable(before, signal);
      for (;;) {
        const wait = slot.bucket.take(this.clock.now());
        if (wait === 0) return this.clock.now() - start;
        await sleep(this.clock, wait, signal);
      }
    } finally {
      release();
    }
  }

  /** The middleware that applies each tool's rate limit before dispatch. */
  middleware(): ToolMiddleware {
    // Not async: tools without a limit (most) go straight on without a promise of their own.
    return (call, _action, next) => {
      const limit = this.tools.schema(call.tool)?.rate_limit;
      if (!limit) return next(call);
      return this.acquire(call.tool, limit, call.signal).then(() => next(call));
    };
  }

  private slot(tool: string, limit: RateLimit): Slot {
    const s = this.slots.get(tool);
    // Re-registering a tool with another limit starts a fresh bucket.
    if (s && s.bucket.limit.max_calls === limit.max_calls && s.bucket.limit.interval_secs === limit.interval_secs) return s;
    const fresh = { bucket: new TokenBucket(limit, this.clock.now()), tail: Promise.resolve() };
    this.slots.set(tool, fresh);
    return fresh;
  }
}

function abortable(p: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return p;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
