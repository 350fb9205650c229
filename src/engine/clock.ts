import { CanceledError } from "../errors.ts";

/** Source of time. Everything time-dependent in the core goes through one, so runs can be replayed. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` after `ms`; returns a function that cancels the timer. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** Longest delay `setTimeout` takes as given (2³¹−1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The wall clock and the platform's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    if (ms <= MAX_TIMER_MS) {
      const h = setTimeout(fn, ms);
      return () => clearTimeout(h);
    }
    // Platforms fire a longer delay at once (it overflows a 32-bit int): wait in slices instead.
    let h: ReturnType<typeof setTimeout>;
    const arm = (left: number) => {
      h = left > MAX_TIMER_MS ? setTimeout(() => arm(left - MAX_TIMER_MS), MAX_TIMER_MS) : setTimeout(fn, left);
    };
    arm(ms);
    return () => clearTimeout(h);
  },
};

/** Waits `ms` on `clock`; rejects with a CanceledError when `signal` aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CanceledError("clock", reasonOf(signal)));
    const onAbort = () => {
      cancel();
      reject(new CanceledError("clock", reasonOf(signal!)));
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The text of an abort reason. */
export function reasonOf(signal: AbortSignal): string {
  return reasonText(signal.reason);
}

/** The text of an abort reason value (an Error's message without its `[car:…]` prefix, a string, else "aborted"). */
export function reasonText(r: unknown): string {
  if (r instanceof Error) return r.message.replace(/^\[car:[^\]]*\] /, "").replace(/^canceled: /, "");
  if (typeof r === "string") return r;
  return "aborted";
}

/**
 * A clock that only moves when told to. `advance(ms)` fires due timers in time order.
 * With `autoAdvance` (the default) a timer scheduled while nothing else is pending fires on the
 * next microtask turn after moving time forward, so retries with backoff run instantly yet
 * deterministically.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Array<{ at: number; seq: number; fn: () => void }> = [];
  private readonly autoAdvance: boolean;

  constructor(startMs = Date.UTC(2026, 0, 1), options: { autoAdvance?: boolean } = {}) {
    this.t = startMs;
    this.autoAdvance = options.autoAdvance ?? true;
  }

  now(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    if (this.autoAdvance) queueMicrotask(() => this.fireNextIfIdle(timer));
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next.at > target) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = next.at;
      next.fn();
    }
    this.t = target;
  }

  /** Timers not yet fired. */
  pending(): number {
    return this.timers.length;
  }

  private earliest() {
    let best: (typeof this.timers)[number] | undefined;
    for (const x of this.timers) if (!best || x.at < best.at || (x.at === best.at && x.seq < best.seq)) best = x;
    return best;
  }

  private fireNextIfIdle(timer: { at: number; seq: number; fn: () => void }): void {
    // Only the earliest pending timer auto-fires, so concurrent timers keep their order.
    if (!this.timers.includes(timer) || this.earliest() !== timer) return;
    this.timers = this.timers.filter((x) => x !== timer);
    this.t = Math.max(this.t, timer.at);
    timer.fn();
  }
}
