// The B3 section of the results: time and bytes per step by N, and crash-resume.
import { B3_PAYLOADS, B3_STEPS } from "./b3.ts";
import type { Measurement } from "./measure.ts";

const LABELS: Record<string, string> = {
  "car-server/none": "no journal",
  "car-server/memory": "in-memory journal",
  "car-server/fs": "fs journal (fsync per level)",
  "langgraph/none": "no checkpointer",
  "langgraph/memory": "MemorySaver (sync)",
  "langgraph/file": "MemorySaver + fs file (fsync per put)",
};
const TIERS: Record<string, string> = { none: "none", memory: "memory", fs: "durable", file: "durable" };

const kb = (bytes: number) => (bytes >= 1024 ? `${bytes / 1024} KB` : `${bytes} B`);
const num = (x: number | undefined, digits = 0) => (x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(digits));

/** Markdown for every B3 measurement in `results` (empty when there is none). */
export function b3Section(results: Measurement[]): string {
  const b3 = results.filter((m) => m.bench.startsWith("b3_"));
  if (b3.length === 0) return "";
  const find = (system: string, mode: string, payload: number, n: number) =>
    b3.find((m) => m.system === system && m.bench === `b3_${mode}` && m.extra?.["payload_bytes"] === payload && m.extra?.["n"] === n);
  const perStepUs = (m: Measurement | undefined) => (m ? (m.median_ms * 1000) / m.extra!["n"]! : undefined);
  const out: string[] = [
    "### B3 — persistence per step",
    "",
    "A chain of N steps; the state holds a payload (1 KB or 64 KB) and every step records a small result in it. " +
      "µs/step: median run ÷ N. B/step: bytes the journal or saver wrote ÷ N (file size for the fs modes). " +
      "growth: B/step at N=1000 ÷ B/step at N=100. car-server's bytes include its snapshots (the first is written after 1 MiB of journal, so at N=1000 here).",
    "",
    `| system | mode | payload | ${B3_STEPS.map((n) => `µs/step N=${n}`).join(" | ")} | + µs/step vs none, N=1000 | ${B3_STEPS.map((n) => `B/step N=${n}`).join(" | ")} | growth |`,
    `|---|---|---|${B3_STEPS.map(() => "---:").join("|")}|---:|${B3_STEPS.map(() => "---:").join("|")}|---:|`,
  ];
  const modes: Array<[string, string]> = [["car-server", "none"], ["car-server", "memory"], ["car-server", "fs"], ["langgraph", "none"], ["langgraph", "memory"], ["langgraph", "file"]];
  for (const [system, mode] of modes) {
    for (const payload of B3_PAYLOADS) {
      const row = B3_STEPS.map((n) => find(system, mode, payload, n));
      if (row.every((m) => m === undefined)) continue;
      const last = B3_STEPS[B3_STEPS.length - 1]!;
      const base = perStepUs(find(system, "none", payload, last));
      const overhead = mode === "none" || base === undefined ? undefined : perStepUs(row[row.length - 1]) !== undefined ? perStepUs(row[row.length - 1])! - base : undefined;
      const bytes = row.map((m) => m?.extra?.["bytes_per_step"]);
      const growth = mode === "none" || !bytes[0] || !bytes[bytes.length - 1] ? "—" : `${(bytes[bytes.length - 1]! / bytes[0]).toFixed(2)}×`;
      out.push(
        `| ${system} | ${LABELS[`${system}/${mode}`]} | ${kb(payload)} | ${row.map((m) => num(perStepUs(m))).join(" | ")} | ${num(overhead)} | ${row.map((m, i) => (mode === "none" ? "—" : num(bytes[i]))).join(" | ")} | ${growth} |`,
      );
    }
  }
  // Side by side at the largest N: ours / LangGraph per tier.
  const lines: string[] = [];
  const last = B3_STEPS[B3_STEPS.length - 1]!;
  for (const payload of B3_PAYLOADS) {
    for (const [ours, peer] of [["memory", "memory"], ["fs", "file"]] as const) {
      const a = find("car-server", ours, payload, last);
      const b = find("langgraph", peer, payload, last);
      if (!a || !b) continue;
      const bytesRatio = a.extra!["bytes_per_step"]! / b.extra!["bytes_per_step"]!;
      lines.push(`- N=${last}, ${kb(payload)}, ${TIERS[ours]}: ours / LangGraph time ${(a.median_ms / b.median_ms).toFixed(3)}, bytes per step ${bytesRatio.toFixed(3)}`);
    }
  }
  if (lines.length) out.push("", ...lines);

  const crashes = b3.filter((m) => m.bench === "b3_crash");
  if (crashes.length) {
    out.push(
      "",
      "### B3 — crash and resume at 0.75·N",
      "",
      "car-server: a child runs the chain on the fs journal and is killed with SIGKILL while step 0.75·N runs; a new process " +
        "reopens the journal, recovers and finishes the proposal. LangGraph (BENCH.md): the node at 0.75·N throws once " +
        "(MemorySaver, same process), then `invoke(null, cfg)` resumes. recovery: from reopening to the first step run after " +
        "the restart; total: to the end of the proposal. Completed steps re-run: must be 0.",
      "",
      "| system | payload | N | killed at | completed steps re-run | steps run after restart | recovery ms | total ms | journal records read |",
      "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const system of ["car-server", "langgraph"]) {
      for (const payload of B3_PAYLOADS) {
        for (const n of B3_STEPS) {
          const m = find(system, "crash", payload, n);
          if (!m) continue;
          const e = m.extra!;
          out.push(`| ${system} | ${kb(payload)} | ${n} | ${e["killed_at"]} | ${e["rerun_completed"]} | ${e["resumed_steps"]} | ${num(e["recover_ms"], 1)} | ${num(e["total_ms"], 1)} | ${e["records_read"] ?? "—"} |`);
        }
      }
    }
  }
  return out.join("\n");
}
