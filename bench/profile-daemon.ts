// Profiles the daemon on B4's workload: `node --import tsx bench/profile-daemon.ts [json|msgpack] [window] [n]`.
// Runs the daemon child under `node --cpu-prof`, drives n proposals (each with one client-answered
// tool call) with `window` in flight, and prints the functions with the most self time.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { daemonExchange, runWindow, Wire, type Encoding } from "./lib/b4-client.ts";
import { startDaemon } from "./lib/b4-servers.ts";

const encoding = (process.argv[2] ?? "json") as Encoding;
const window = Number(process.argv[3] ?? 64);
const n = Number(process.argv[4] ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), "car-b4-prof-"));
// B4_HEAP_PROF=1 samples allocations instead (--heap-prof), for the GC share.
const heap = process.env["B4_HEAP_PROF"] === "1";
// B4_NO_PROF=1 only measures (profiling itself costs CPU).
const noProf = process.env["B4_NO_PROF"] === "1";
const daemon = await startDaemon(noProf ? [] : heap ? ["--heap-prof", `--heap-prof-dir=${dir}`] : ["--cpu-prof", `--cpu-prof-dir=${dir}`]);
const wire = await Wire.open(daemon.url, encoding);
const one = await daemonExchange(wire);
await runWindow(Math.min(n, 2000), window, one); // warm-up
const cpu0 = daemon.cpuMs();
const ms = await runWindow(n, window, one);
const cpuUs = ((daemon.cpuMs() - cpu0) * 1000) / n;
console.log(`${n} proposals, ${window} in flight, ${encoding}: ${ms.toFixed(0)} ms, ${((n * 1000) / ms).toFixed(0)} proposals/s, daemon CPU ${cpuUs.toFixed(0)} µs per proposal`);
wire.close();
await daemon.stop();

if (noProf) process.exit(0);
if (heap) {
  console.log(`heap profile in ${dir} (open it in Chrome DevTools)`);
  process.exit(0);
}
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
const file = join(dir, readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))!);
const prof = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const self = new Map<string, number>();
let total = 0;
prof.samples.forEach((id, i) => {
  const f = byId.get(id)!.callFrame;
  const key = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(node_modules|dist)\//, "$1/")}:${f.lineNumber + 1}`;
  const dt = prof.timeDeltas[i] ?? 0;
  total += dt;
  self.set(key, (self.get(key) ?? 0) + dt);
});
for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
console.log(`profile: ${file}`);
