/** Admission control: a counting semaphore around every model call (reference §9 "Admission"). */
import { CanceledError, CarError } from "../errors.ts";
import { reasonOf } from "../engine/clock.ts";
import type { AdmissionStatus } from "./schemas.ts";

type Waiter = { grant: () => void; reject: (e: unknown) => void };

export class Admission {
  private inUse = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly permits: number,
    private readonly maxQueued: number,
    private readonly envOverride = false,
  ) {}

  /** Waits for a permit; resolves with its release function (idempotent). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw new CanceledError("inference", reasonOf(signal));
    if (this.inUse < this.permits && this.waiters.length === 0) {
      this.inUse++;
      return this.releaser();
    }
    if (this.waiters.length >= this.maxQueued) {
      throw new CarError("overloaded", "inference", `admission queue full: ${this.inUse} running, ${this.waiters.length} waiting (maxQueued ${this.maxQueued})`);
    }
    await new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new CanceledError("inference", reasonOf(signal!)));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(w);
    });
    return this.releaser();
  }

  /** Runs `fn` holding a permit. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** The `admission.status` result. */
  status(): AdmissionStatus {
    return {
      permits_total: this.permits,
      permits_available: this.permits - this.inUse,
      permits_in_use: this.inUse,
      queued: this.waiters.length,
      env_override: this.envOverride,
    };
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiters.shift();
      if (next) next.grant(); // the permit passes straight to the next waiter
      else this.inUse--;
    };
  }
}
