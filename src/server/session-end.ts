/**
 * The end of a session, as requests see it. Each running request registers here instead of
 * adding a listener to an AbortSignal: cheaper per request, and no listener-count warnings when a
 * connection has many requests in flight.
 */
export class SessionEnd {
  private readonly fns = new Set<(reason: unknown) => void>();
  private endedWith: { reason: unknown } | undefined;

  get ended(): boolean {
    return this.endedWith !== undefined;
  }

  /** Ends the session: every registered function is called once with `reason`. */
  end(reason: unknown): void {
    if (this.endedWith) return;
    this.endedWith = { reason };
    const fns = [...this.fns];
    this.fns.clear();
    for (const fn of fns) fn(reason);
  }

  /** Calls `fn` when the session ends (at once if it has); returns a function that unregisters it. */
  onEnd(fn: (reason: unknown) => void): () => void {
    if (this.endedWith) {
      fn(this.endedWith.reason);
      return () => {};
    }
    this.fns.add(fn);
    return () => void this.fns.delete(fn);
  }
}
