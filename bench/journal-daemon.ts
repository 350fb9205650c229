// What a session journal costs a daemon round trip: `node --import tsx bench/journal-daemon.ts [N]`.
// Starts the daemon (Node, from the sources) once per --journal mode (and once with --ephemeral),
// then times N sequential proposal.submit calls with one client-answered tool_call, and N state.set
// calls, over loopback WebSocket (JSON). Prints medians and the ratio to --journal off.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CarClient } from "../adapters/client/node.ts";
import { check, median } from "./lib/measure.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const N = Number(process.argv[2] ?? 300);

async function daemon(args: string[]) {
  const home = mkdtempSync(join(tmpdir(), "car-bench-journal-"));
  const proc = spawn(process.execPath, ["--import", "tsx", "runtimes/node.ts", "--port", "0", "--no-auth", "--car-home", home, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const m = /listening on (ws:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once("exit", (code) => reject(new Error(`daemon exited ${code}`)));
  });
  return { url, stop: () => (proc.kill("SIGKILL"), rmSync(home, { recursive: true, force: true })) };
}

async function measure(args: string[]): Promise<{ submit: number; set: number }> {
  const d = await daemon(args);
  const c = new CarClient({ url: d.url, reconnect: false });
  try {
    await c.toolsRegister([{ name: "echo" }]);
    const proposal = { actions: [{ id: "e", type: "tool_call" as const, tool: "echo", parameters: { x: 1 } }] };
    const onToolCall = () => ({ ok: true });
    const submit: number[] = [];
    const set: number[] = [];
    for (let i = 0; i < N + 20; i++) {
      const t0 = performance.now();
      const r = await c.submitProposal(proposal, { onToolCall });
      if (i >= 20) submit.push(performance.now() - t0);
      check(r.results[0]!.status === "succeeded", "the proposal ran");
      const t1 = performance.now();
      await c.stateSet(`k${i % 10}`, i);
      if (i >= 20) set.push(performance.now() - t1);
    }
    return { submit: median(submit), set: median(set) };
  } finally {
    c.close();
    d.stop();
  }
}

const modes: Array<[string, string[]]> = [
  ["--journal off", ["--journal", "off"]],
  ["--journal buffered", ["--journal", "buffered"]],
  ["--journal fsync (default)", []],
  ["--ephemeral", ["--ephemeral"]],
];
const rows: string[] = ["| daemon | proposal.submit (1 tool call) median µs | × off | state.set median µs | × off |", "|---|---:|---:|---:|---:|"];
let off: { submit: number; set: number } | undefined;
for (const [name, args] of modes) {
  const m = await measure(args);
  off ??= m;
  rows.push(`| ${name} | ${(m.submit * 1000).toFixed(0)} | ${(m.submit / off.submit).toFixed(2)} | ${(m.set * 1000).toFixed(0)} | ${(m.set / off.set).toFixed(2)} |`);
}
console.log(`${N} sequential round trips each, loopback WebSocket, JSON\n\n${rows.join("\n")}`);
