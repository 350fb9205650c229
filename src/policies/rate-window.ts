/**
 * A sliding-window counter for the `rate_limit_tool` policy rule: a call is allowed while fewer
 * than `maxCalls` calls were admitted in the last `intervalMs`. Only allowed calls are counted.
 */
export class SlidingWindow {
  private admitted: number[] = [];

  constructor(
    readonly maxCalls: number,
    readonly intervalMs: number,
  ) {}

  /** Admits and counts one call at `now` if the window has room; returns whether it did. */
  tryAdmit(now: number): boolean {
    const since = now - this.intervalMs;
    while (this.admitted.length > 0 && this.admitted[0]! <= since) this.admitted.shift();
    if (this.admitted.length >= this.maxCalls) return false;
    this.admitted.push(now);
    return true;
  }

  /** Calls counted in the window ending at `now`. */
  count(now: number): number {
    const since = now - this.intervalMs;
    return this.admitted.filter((t) => t > since).length;
  }
}
