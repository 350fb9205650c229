// B4 in `npm run bench`: runs bench/systems/b4.ts once per encoding (each run starts the daemon
// and the bare echo in their own children) and renders its own table of ratios ours / bare WebSocket.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Measurement } from "./measure.ts";

const script = fileURLToPath(new URL("../systems/b4.ts", import.meta.url));
/** The target: our round trips per second at least half of the bare echo's. */
const TARGET = 0.5;

/** Runs B4 (unless `only` leaves it out), records failures, returns the markdown section ("" when skipped). */
export function b4Section(only: string[], failures: string[]): string {
  const results: Measurement[] = [];
  for (const enc of ["json", "msgpack"]) {
    const bench = `b4_${enc}`;
    if (only.length && !only.some((o) => bench.startsWith(o))) continue;
    process.stderr.write(`running ${bench} on car-server and ws-echo…\n`);
    const res = spawnSync(process.execPath, ["--import", "tsx", script, enc], { encoding: "utf8", timeout: 600_000 });
    const lines = (res.stdout ?? "").split("\n").filter((l) => l.startsWith("RESULT "));
    if (res.status !== 0 || lines.length === 0) {
      failures.push(`${bench}: exit ${res.status}\n${(res.stderr ?? "").slice(-2000)}`);
      continue;
    }
    for (const l of lines) results.push(JSON.parse(l.slice(7)) as Measurement);
  }
  if (results.length === 0) return "";

  const rows = [
    "| bench | ours round trips/s | bare ws round trips/s | ours / bare | daemon CPU µs / proposal | echo CPU µs / exchange | frame bytes (request, tools.execute, answer, response) |",
    "|---|---:|---:|---:|---:|---:|---|",
  ];
  for (const ours of results.filter((m) => m.system === "car-server")) {
    const bare = results.find((m) => m.bench === ours.bench && m.system === "ws-echo");
    const o = ours.extra ?? {};
    const b = bare?.extra ?? {};
    const ratio = bare ? (o["round_trips_per_s"] ?? 0) / (b["round_trips_per_s"] ?? 1) : NaN;
    const bytes = ["bytes_request", "bytes_callback", "bytes_answer", "bytes_response"].map((k) => o[k]).join(", ");
    rows.push(
      `| ${ours.bench} | ${fmt(o["round_trips_per_s"])} | ${fmt(b["round_trips_per_s"])} | ${ratio.toFixed(2)}${ratio < TARGET ? " (target ≥ 0.50)" : ""} | ${fmt(o["server_cpu_us"])} | ${fmt(b["server_cpu_us"])} | ${bytes} |`,
    );
  }
  return `### B4 — daemon round trips vs a bare \`ws\` echo

One \`proposal.submit\` with one \`tool_call\` answered by the client = 2 WebSocket round trips
(request → \`tools.execute\` → answer → response); the echo exchanges the same frames (recorded from
the daemon). \`seq\`: one at a time; \`64\`: 64 in flight on one connection. Round trips/s are medians
over alternating rounds; CPU is the server child's user + system time per exchange (steadier than
wall time on a shared machine).

${rows.join("\n")}`;
}

function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return "—";
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}
