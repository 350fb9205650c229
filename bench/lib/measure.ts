// Shared helpers for benchmark children: timing, medians and the one-line JSON report.

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs `fn` `warmups` times to warm up the JIT, then `runs` times; returns the per-run milliseconds. */
export async function timeRuns(runs: number, fn: () => Promise<void>, warmups = 1): Promise<number[]> {
  for (let i = 0; i < warmups; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Throws unless the benchmark really did its work. */
export function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`benchmark check failed: ${what}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A measurement a child reports to bench/run.ts. */
export interface Measurement {
  bench: string;
  system: string;
  /** Median wall milliseconds of one run of the whole benchmark. */
  median_ms: number;
  runs: number[];
  /** Further medians (compile time, verify time, bytes…). */
  extra?: Record<string, number>;
}

/** Prints the measurement as the child's last stdout line. */
export function report(m: Measurement): void {
  console.log(`RESULT ${JSON.stringify(m)}`);
}
