/**
 * A fair readers-writer lock for async code: readers share, a writer runs alone, and waiters are
 * served in arrival order (a queued writer holds back later readers, so writers never starve).
 */
export class RwLock {
  private readers = 0;
  private writer = false;
  private readonly queue: Array<{ write: boolean; grant: () => void }> = [];

  /** Runs `fn` while holding a shared lock. */
  read<T>(fn: () => Promise<T>): Promise<T> {
    return this.run(false, fn);
  }

  /** Runs `fn` while holding the exclusive lock. */
  write<T>(fn: () => Promise<T>): Promise<T> {
    return this.run(true, fn);
  }

  private async run<T>(write: boolean, fn: () => Promise<T>): Promise<T> {
    await new Promise<void>((grant) => {
      this.queue.push({ write, grant });
      this.pump();
    });
    try {
      return await fn();
    } finally {
      if (write) this.writer = false;
      else this.readers--;
      this.pump();
    }
  }

  private pump(): void {
    for (;;) {
      const head = this.queue[0];
      if (!head || this.writer) return;
      if (head.write && this.readers > 0) return;
      this.queue.shift();
      if (head.write) this.writer = true;
      else this.readers++;
      head.grant();
      if (head.write) return;
    }
  }
}
