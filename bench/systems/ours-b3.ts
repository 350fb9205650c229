// car-server's engine on B3 (BENCH.md): bytes and time per step with no journal, an in-memory
// journal and a durable fs journal; and crash-resume after a SIGKILL at 0.75·N.
// Usage: ours-b3.ts none|memory|fs|crash   (ours-b3.ts writer … is the crash child)
import { appendFileSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Runtime, openDurableRuntime, type AppendLog } from "car-server"; // the built package (dist)
import { createFsAppendLog } from "car-server/adapters/storage/fs";
import { createMemoryAppendLog } from "car-server/adapters/storage/memory";
import { B3_PAYLOADS, B3_STEPS, b3Runs, killStep, payloadOf, runCounts, runUntilKilled } from "../lib/b3.ts";
import { check, median, report } from "../lib/measure.ts";

const LOG_HEADER_BYTES = 8;
const SNAPSHOT_MARK = new TextEncoder().encode('"journal_snapshot"');

/** Each step records a small result under its own key; the payload sits in the state throughout. */
function chain(n: number) {
  return {
    actions: Array.from({ length: n }, (_, i) => ({
      id: `s${i}`,
      type: "tool_call" as const,
      tool: "step",
      parameters: { i },
      expected_effects: { [`results/${i}`]: `$s${i}.output` },
      dependencies: i ? [`s${i - 1}`] : [],
    })),
  };
}

/** Counts the bytes handed to `inner` and the snapshot records among them. */
function counting(inner: AppendLog) {
  const c = { bytes: 0, snapshots: 0 };
  const log: AppendLog = {
    append(data) {
      c.bytes += data.length;
      if (includes(data.subarray(0, 80), SNAPSHOT_MARK)) c.snapshots++;
      return inner.append(data);
    },
    read: (offset) => inner.read(offset),
    compact: (keep) => inner.compact(keep),
    close: () => inner.close(),
  };
  return { log, c };
}

function includes(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

async function persist(mode: "none" | "memory" | "fs"): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "car-b3-"));
  try {
    // Warm-up of the whole path first, so the first configuration is not measured on cold code.
    const configs: Array<[number, number, boolean]> = [[1024, 250, true], [1024, 250, true], [1024, 250, true]];
    for (const payload of B3_PAYLOADS) for (const n of B3_STEPS) configs.push([payload, n, false]);
    let fileNo = 0;
    for (const [payload, n, warm] of configs) {
      const times: number[] = [];
      let bytes = 0;
      let snapshots = 0;
      const runs = warm ? 1 : b3Runs(n);
      for (let r = warm ? 0 : -1; r < runs; r++) {
        const path = join(dir, `events-${fileNo++}.log`);
        const counted = mode === "none" ? undefined : counting(mode === "memory" ? createMemoryAppendLog() : await createFsAppendLog({ path }));
        const rt = new Runtime({ maxEvents: 1_000_000, ...(counted ? { journal: counted.log } : {}) });
        let calls = 0;
        rt.registerTool({ name: "step" }, (p) => (calls++, { i: p["i"], ok: true }));
        const t0 = performance.now();
        const res = await rt.executeProposal(chain(n), { initialState: { payload: payloadOf(payload) } });
        const ms = performance.now() - t0;
        check(calls === n && res.results.every((x) => x.status === "succeeded"), `b3 ${mode}: all ${n} steps ran (${calls})`);
        check(rt.state.keys().length === n + 1, "b3: every step's result is in the state");
        await counted?.log.close();
        if (r < 0) continue; // warm-up
        times.push(ms);
        if (counted) {
          bytes = mode === "fs" ? (await stat(path)).size - LOG_HEADER_BYTES : counted.c.bytes;
          snapshots = counted.c.snapshots;
        }
      }
      if (!warm) report({ bench: `b3_${mode}`, system: "car-server", median_ms: median(times), runs: times, extra: { n, payload_bytes: payload, bytes, bytes_per_step: bytes / n, snapshots } });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The crash child: runs the chain on an fs journal, logs each completed step, hangs at step k. */
async function writer(path: string, side: string, n: number, payload: number): Promise<void> {
  const k = killStep(n);
  const { runtime } = await openDurableRuntime({
    journal: await createFsAppendLog({ path }),
    maxEvents: 1_000_000,
    setup: (rt) =>
      void rt.registerTool({ name: "step" }, (p) => {
        const i = p["i"] as number;
        if (i === k) {
          process.stdout.write(`started ${i}\n`);
          return new Promise(() => {});
        }
        appendFileSync(side, `${i}\n`);
        return { i, ok: true };
      }),
  });
  await runtime.executeProposal(chain(n), { initialState: { payload: payloadOf(payload) } });
}

async function crash(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const dir = await mkdtemp(join(tmpdir(), "car-b3-crash-"));
  try {
    for (const payload of B3_PAYLOADS) {
      for (const n of B3_STEPS) {
        const k = killStep(n);
        const path = join(dir, `events-${payload}-${n}.log`);
        const side = join(dir, `runs-${payload}-${n}`);
        await runUntilKilled([self, "writer", path, side, String(n), String(payload)], `started ${k}`);
        const journalBytes = (await stat(path)).size - LOG_HEADER_BYTES;
        let firstLive = 0;
        let live = 0;
        const t0 = performance.now();
        const journal = await createFsAppendLog({ path });
        const { runtime, recovery } = await openDurableRuntime({
          journal,
          maxEvents: 1_000_000,
          setup: (rt) =>
            void rt.registerTool({ name: "step" }, (p) => {
              if (live++ === 0) firstLive = performance.now();
              appendFileSync(side, `${p["i"]}\n`);
              return { i: p["i"], ok: true };
            }),
        });
        const total = performance.now() - t0;
        const counts = runCounts(side, n);
        const rerunCompleted = counts.slice(0, k).filter((c) => c > 1).length;
        const result = recovery.resumed[0]?.result;
        check(result !== undefined && result.results.every((r) => r.status === "succeeded"), "b3 crash: the resumed proposal completed");
        check(counts.every((c) => c === 1), `b3 crash: every step ran exactly once over both processes (${counts.join("")})`);
        check(live === n - k && runtime.state.keys().length === n + 1, `b3 crash: ${live} steps ran after the restart`);
        await runtime.flushJournal();
        await journal.close();
        const recoverMs = firstLive - t0;
        report({
          bench: "b3_crash",
          system: "car-server",
          median_ms: recoverMs,
          runs: [recoverMs],
          extra: { n, payload_bytes: payload, killed_at: k, adopted: recovery.resumed[0]!.adopted.length, rerun_completed: rerunCompleted, resumed_steps: live, recover_ms: recoverMs, total_ms: total, journal_bytes: journalBytes, records_read: recovery.records },
        });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === "none" || cmd === "memory" || cmd === "fs") await persist(cmd);
else if (cmd === "crash") await crash();
else if (cmd === "writer") await writer(rest[0]!, rest[1]!, Number(rest[2]), Number(rest[3]));
else throw new Error(`unknown mode ${cmd}; one of none, memory, fs, crash`);
