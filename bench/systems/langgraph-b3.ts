// LangGraph.js on B3 (BENCH.md): bytes and time per step with no checkpointer, MemorySaver, and
// MemorySaver whose every serialized checkpoint and write is also appended, fsynced, to a file (the
// same fs append log car-server journals to); and resume after a crash at 0.75·N.
// Usage: langgraph-b3.ts none|memory|file|crash
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { createFsAppendLog } from "car-server/adapters/storage/fs";
import { B3_PAYLOADS, B3_STEPS, b3Runs, killStep, payloadOf } from "../lib/b3.ts";
import { check, median, report } from "../lib/measure.ts";

const LOG_HEADER_BYTES = 8;

/** The payload sits in the state throughout; each step appends its small result (a reducer channel, as messages do). */
const State = Annotation.Root({
  payload: Annotation<string>({ reducer: (_a, b) => b, default: () => "" }),
  results: Annotation<Array<{ i: number; ok: boolean }>>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

type Serde = { dumpsTyped(data: unknown): Promise<[string, Uint8Array]>; loadsTyped(type: string, data: Uint8Array | string): Promise<unknown> };

/** MemorySaver counting every byte its serializer produces (what it stores), optionally sinking them to a file. */
class CountingSaver extends MemorySaver {
  bytes = 0;
  private chunks: Uint8Array[] = [];
  constructor(private readonly sink?: (chunks: Uint8Array[]) => Promise<unknown>) {
    super();
    const self = this as unknown as { serde: Serde };
    const inner = self.serde;
    self.serde = {
      dumpsTyped: async (data) => {
        const out = await inner.dumpsTyped(data);
        const bytes = typeof out[1] === "string" ? new TextEncoder().encode(out[1]) : out[1];
        this.bytes += bytes.length;
        this.chunks.push(bytes);
        return out;
      },
      loadsTyped: (type, data) => inner.loadsTyped(type, data),
    };
  }
  override async put(...args: Parameters<MemorySaver["put"]>) {
    const r = await super.put(...args);
    await this.drain();
    return r;
  }
  override async putWrites(...args: Parameters<MemorySaver["putWrites"]>) {
    await super.putWrites(...args);
    await this.drain();
  }
  private async drain(): Promise<void> {
    const c = this.chunks;
    this.chunks = [];
    if (this.sink && c.length) await this.sink(c);
  }
}

function graph(n: number, onStep: (i: number) => void) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const g: any = new StateGraph(State);
  for (let i = 0; i < n; i++) g.addNode(`s${i}`, async () => (onStep(i), { results: [{ i, ok: true }] }));
  g.addEdge(START, "s0");
  for (let i = 1; i < n; i++) g.addEdge(`s${i - 1}`, `s${i}`);
  g.addEdge(`s${n - 1}`, END);
  return g;
}

async function persist(mode: "none" | "memory" | "file"): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "lg-b3-"));
  try {
    // Warm-up of the whole path first, so the first configuration is not measured on cold code.
    const configs: Array<[number, number, boolean]> = [[1024, 100, true], [1024, 100, true]];
    for (const payload of B3_PAYLOADS) for (const n of B3_STEPS) configs.push([payload, n, false]);
    let fileNo = 0;
    for (const [payload, n, warm] of configs) {
      const times: number[] = [];
      let bytes = 0;
      const slow = mode !== "none";
      const runs = warm ? 1 : b3Runs(n, slow);
      for (let r = 0; r < runs; r++) {
        const path = join(dir, `cp-${fileNo++}.log`);
        const log = mode === "file" ? await createFsAppendLog({ path }) : undefined;
        const saver = mode === "none" ? undefined : new CountingSaver(log ? (chunks) => Promise.all(chunks.map((c) => log.append(c))) : undefined);
        let calls = 0;
        const app = graph(n, () => calls++).compile(saver ? { checkpointer: saver } : {});
        const t0 = performance.now();
        const out = await app.invoke({ payload: payloadOf(payload), results: [] }, { configurable: { thread_id: `t${r}` }, recursionLimit: n + 10, ...(saver ? { durability: "sync" } : {}) });
        const ms = performance.now() - t0;
        check(calls === n && out.results.length === n && out.payload.length === payload, `b3 ${mode}: ${calls} of ${n} steps ran`);
        await log?.close();
        times.push(ms);
        if (saver) bytes = mode === "file" ? (await stat(path)).size - LOG_HEADER_BYTES : saver.bytes;
      }
      if (!warm) report({ bench: `b3_${mode}`, system: "langgraph", median_ms: median(times), runs: times, extra: { n, payload_bytes: payload, bytes, bytes_per_step: bytes / n } });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** BENCH.md's crash for LangGraph: the node at 0.75·N throws once; `invoke(null, cfg)` resumes from the checkpoint. */
async function crash(): Promise<void> {
  for (const payload of B3_PAYLOADS) {
    for (const n of B3_STEPS) {
      const k = killStep(n);
      const counts = new Array<number>(n).fill(0);
      let crashed = false;
      let firstAfter = 0;
      let resumed = false;
      const saver = new CountingSaver();
      const app = graph(n, (i) => {
        if (resumed && firstAfter === 0) firstAfter = performance.now();
        if (i === k && !crashed) {
          crashed = true;
          throw new Error("crash");
        }
        counts[i]!++;
      }).compile({ checkpointer: saver });
      const cfg = { configurable: { thread_id: "crash" }, recursionLimit: n + 10, durability: "sync" as const };
      let failed = false;
      await app.invoke({ payload: payloadOf(payload), results: [] }, cfg).catch(() => (failed = true));
      check(failed && counts.slice(0, k).every((c) => c === 1), "b3 crash: the run crashed at 0.75·N");
      resumed = true;
      const t0 = performance.now();
      const out = await app.invoke(null, cfg);
      const total = performance.now() - t0;
      const rerunCompleted = counts.slice(0, k).filter((c) => c > 1).length;
      check(out.results.length === n && counts.every((c) => c === 1), `b3 crash: every step completed exactly once (${rerunCompleted} completed steps re-ran)`);
      const recoverMs = firstAfter - t0;
      report({
        bench: "b3_crash",
        system: "langgraph",
        median_ms: recoverMs,
        runs: [recoverMs],
        extra: { n, payload_bytes: payload, killed_at: k, rerun_completed: rerunCompleted, resumed_steps: n - k, recover_ms: recoverMs, total_ms: total, journal_bytes: saver.bytes },
      });
    }
  }
}

const mode = process.argv[2];
if (mode === "none" || mode === "memory" || mode === "file") await persist(mode);
else if (mode === "crash") await crash();
else throw new Error(`unknown mode ${mode}; one of none, memory, file, crash`);
