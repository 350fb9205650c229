// Shared settings and helpers of the B3 benchmark (persistence per step, crash-resume).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/** Chain lengths and state payload sizes of B3 (BENCH.md). */
export const B3_STEPS = [100, 250, 500, 1000];
export const B3_PAYLOADS = [1024, 64 * 1024];

/** Timed runs per configuration: more for short chains (fewer for the slow peer's long ones). */
export const b3Runs = (n: number, slow = false) => (slow ? (n <= 250 ? 3 : 1) : n <= 250 ? 5 : 3);

/** A payload string of exactly `bytes` ASCII bytes. */
export const payloadOf = (bytes: number) => "p".repeat(bytes);

/** Step at which the crash-resume run is killed. */
export const killStep = (n: number) => Math.floor(0.75 * n);

/**
 * Runs `args` as a child (node --import tsx) and SIGKILLs it once it prints `line`; resolves when
 * it is gone. A child that exits by itself is an error.
 */
export function runUntilKilled(args: string[], line: string): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.split("\n").includes(line)) child.kill("SIGKILL");
    });
    child.once("exit", (code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`writer exited by itself (${code}): ${out.slice(-500)}${err.slice(-2000)}`))));
  });
}

/** How many times each of `n` steps ran, from a side file of step indexes (one per line). */
export function runCounts(file: string, n: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (const line of readFileSync(file, "utf8").split("\n")) if (line) counts[Number(line)]!++;
  return counts;
}
