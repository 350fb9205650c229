/**
 * The part of `node:test` the storage conformance suites use (describe, test with `{ skip }`), for
 * a browser page: tests are collected when declared and run one by one by `runCollected`.
 */
type TestFn = () => unknown | Promise<unknown>;

interface Collected {
  name: string;
  skip: string | undefined;
  fn: TestFn;
}

/** One test's outcome, as the page reports it. */
export interface TestOutcome {
  name: string;
  status: "pass" | "fail" | "skip";
  error?: string;
  ms: number;
}

const collected: Collected[] = [];
const suites: string[] = [];

export function describe(name: string, fn: () => void): void {
  suites.push(name);
  try {
    fn();
  } finally {
    suites.pop();
  }
}

export function test(name: string, optionsOrFn: { skip?: string | boolean } | TestFn, maybeFn?: TestFn): void {
  const fn = typeof optionsOrFn === "function" ? optionsOrFn : maybeFn!;
  const skip = typeof optionsOrFn === "object" ? optionsOrFn.skip : undefined;
  collected.push({ name: [...suites, name].join(" > "), skip: skip ? String(skip) : undefined, fn });
}

export const it = test;

/** Runs every collected test in order (each at most once), calling `onOutcome` as each ends. */
export async function runCollected(onOutcome?: (o: TestOutcome) => void): Promise<TestOutcome[]> {
  const out: TestOutcome[] = [];
  for (const t of collected.splice(0)) {
    const start = performance.now();
    let o: TestOutcome;
    if (t.skip !== undefined) o = { name: t.name, status: "skip", error: t.skip, ms: 0 };
    else {
      try {
        await t.fn();
        o = { name: t.name, status: "pass", ms: performance.now() - start };
      } catch (err) {
        const e = err as Error;
        o = { name: t.name, status: "fail", error: `${e?.name ?? "Error"}: ${e?.message ?? String(err)}`, ms: performance.now() - start };
      }
    }
    out.push(o);
    onOutcome?.(o);
  }
  return out;
}
