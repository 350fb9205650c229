// Shared by the durable-execution tests and their child-process fixture.
import type { AppendLog, LogRecord } from "../../src/storage/storage.ts";

/** A chain of `n` tool calls; each step feeds the next through `$s<i-1>.output` and writes `acc` and `r/<i>`. */
export function chainProposal(n: number, id = "chain") {
  return {
    id,
    actions: Array.from({ length: n }, (_, i) => ({
      id: `s${i}`,
      type: "tool_call" as const,
      tool: "step",
      parameters: { i, prev: i ? `$s${i - 1}.output` : null },
      expected_effects: { acc: `$s${i}.output.acc`, [`r/${i}`]: `$s${i}.output` },
      dependencies: i ? [`s${i - 1}`] : [],
    })),
  };
}

/** The step tool's pure part: folds i into the previous output. */
export function stepOutput(params: Record<string, unknown>): { i: number; acc: number } {
  const i = params["i"] as number;
  const prev = params["prev"] as { acc: number } | null;
  return { i, acc: (prev?.acc ?? 0) * 31 + i + 1 };
}

/** An AppendLog wrapper that can fail or hang appends, and counts what was acknowledged. */
export function wrapLog(inner: AppendLog, hooks: { beforeAppend?: (n: number, data: Uint8Array) => "fail" | "hang" | void } = {}) {
  let n = 0;
  const stats = { acked: 0 };
  const log: AppendLog = {
    append(data) {
      const what = hooks.beforeAppend?.(n++, data);
      if (what === "fail") return Promise.reject(new Error("disk full (injected)"));
      if (what === "hang") return new Promise<number>(() => {});
      return inner.append(data).then((o) => (stats.acked++, o));
    },
    read: (offset?: number): AsyncIterable<LogRecord> => inner.read(offset),
    compact: (keep) => inner.compact(keep),
    close: () => inner.close(),
  };
  return { log, stats };
}
