// `npm run bench`: every benchmark, each system in its own child process, one table of medians and
// ratios, and bench/RESULTS.md with the machine and the date.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import type { Measurement } from "./lib/measure.ts";
import { b3Section } from "./lib/b3-table.ts";
import { b4Section } from "./lib/b4-report.ts";

interface Job {
  bench: string;
  system: string;
  script: string;
  args: string[];
}

const here = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
const jobs: Job[] = [];
for (const bench of ["b1a", "b1b", "b2_noop", "b2_5ms"]) {
  for (const system of ["ours", "langgraph", "mastra"]) jobs.push({ bench, system, script: `systems/${system}.ts`, args: [bench] });
}
// B3: one child per system and mode; each prints one RESULT line per (payload, N).
for (const mode of ["none", "memory", "fs", "crash"]) jobs.push({ bench: "b3", system: "ours", script: "systems/ours-b3.ts", args: [mode] });
for (const mode of ["none", "memory", "file", "crash"]) jobs.push({ bench: "b3", system: "langgraph", script: "systems/langgraph-b3.ts", args: [mode] });

const results: Measurement[] = [];
const failures: string[] = [];
for (const job of jobs) {
  if (only.length && !only.some((o) => job.bench.startsWith(o))) continue;
  process.stderr.write(`running ${job.bench} ${job.args.join(" ")} on ${job.system}…\n`);
  const res = spawnSync(process.execPath, ["--import", "tsx", `${here}${job.script}`, ...job.args], { encoding: "utf8", env: { ...process.env, LANGCHAIN_TRACING_V2: "", LANGSMITH_TRACING: "" }, timeout: 600_000 });
  const lines = res.stdout.split("\n").filter((l) => l.startsWith("RESULT "));
  if (res.status !== 0 || lines.length === 0) {
    failures.push(`${job.bench} ${job.args.join(" ")}/${job.system}: exit ${res.status}\n${res.stderr.slice(-2000)}`);
    continue;
  }
  for (const line of lines) results.push(JSON.parse(line.slice(7)) as Measurement);
}

// B4 runs its own children (daemon / bare echo + client) and renders its own table.
const b4 = b4Section(only, failures);

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const ideal: Record<string, number> = { b2_5ms: 50 };
const rows: string[] = ["| bench | system | median ms | per node µs | ours / this | extra |", "|---|---|---:|---:|---:|---|"];
for (const m of results) {
  if (m.bench.startsWith("b3")) continue;
  const ours = results.find((r) => r.bench === m.bench && r.system === "car-server");
  const nodes = m.extra?.["nodes"];
  const ratio = ours && m.system !== "car-server" ? (ours.median_ms / m.median_ms).toFixed(3) : "—";
  const extra = Object.entries(m.extra ?? {}).filter(([k]) => k !== "nodes").map(([k, v]) => `${k} ${fmt(v)}`);
  if (m.system === "car-server" && ideal[m.bench]) extra.push(`ours / ideal ${(m.median_ms / ideal[m.bench]!).toFixed(2)}`);
  rows.push(`| ${m.bench} | ${m.system} | ${fmt(m.median_ms)} | ${nodes ? ((m.median_ms * 1000) / nodes).toFixed(1) : "—"} | ${ratio} | ${extra.join(", ")} |`);
}
const table = [rows.length > 2 ? rows.join("\n") : "", b3Section(results)].filter(Boolean).join("\n\n");
console.log(table);
if (b4) console.log(`\n${b4}`);
if (failures.length) console.error(`\nfailed:\n${failures.join("\n")}`);

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
const md = `# Benchmark results

Run: ${new Date().toISOString()} — ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}.
Each system runs in its own child process; medians of several runs after one warm-up. Ratios are ours / peer
(below 1 = we are faster). See ../shared/BENCH.md for how each workload is built.

${table}
${b4 ? `\n${b4}\n` : ""}${failures.length ? `\nFailed jobs:\n\n\`\`\`\n${failures.join("\n")}\n\`\`\`\n` : ""}`;
if (only.length === 0) writeFileSync(`${here}RESULTS.md`, md);
process.exit(failures.length ? 1 : 0);
