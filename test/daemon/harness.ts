// Starts car-server as a child process on Node, Bun or Deno and reads its first stdout lines.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export type RuntimeName = "node" | "bun" | "deno";

const ROOT = resolve(import.meta.dirname, "../..");

// If the test process dies before its after() hooks run, take the daemons down with it.
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});
const BIN = join(ROOT, "node_modules", ".bin");

const probed: Partial<Record<RuntimeName, SpawnSyncReturns<string>>> = {};

/** The command that runs the daemon on `rt`, or why it cannot run here. */
export function daemonCommand(rt: RuntimeName): { cmd: string; args: string[] } | { skip: string } {
  if (rt === "node") return { cmd: process.execPath, args: ["--import", "tsx", "runtimes/node.ts"] };
  const bin = join(BIN, rt);
  if (!existsSync(bin)) return { skip: `${rt} binary not found at ${bin} (npm install the "${rt}" devDependency)` };
  const probe = (probed[rt] ??= spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 30_000 }));
  if (probe.status !== 0) return { skip: `${bin} --version failed (status ${probe.status}): ${probe.stderr || probe.error?.message || ""}`.trim() };
  if (rt === "bun") return { cmd: bin, args: ["runtimes/bun.ts"] };
  return { cmd: bin, args: ["run", "-A", "runtimes/deno.ts"] };
}

/** Runs a TypeScript file of this repository on `rt`; resolves with its exit code and output. */
export async function runScript(rt: RuntimeName, script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const command = daemonCommand(rt);
  if ("skip" in command) throw new Error(command.skip);
  const argv = rt === "node" ? ["--import", "tsx", script] : rt === "bun" ? [script] : ["run", "-A", script];
  return runToExit(command.cmd, [...argv, ...args], env);
}

/** Spawns a command in the repository, collects its output, and kills it after 60 s. */
async function runToExit(cmd: string, argv: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(proc);
  let out = "";
  let err = "";
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  const code = await new Promise<number | null>((res) => proc.once("exit", (c) => res(c)));
  clearTimeout(timer);
  children.delete(proc);
  return { code, stdout: out, stderr: err };
}

export interface Daemon {
  runtime: RuntimeName;
  proc: ChildProcess;
  port: number;
  url: string;
  http: string;
  carHome: string;
  /** Every stdout line so far. */
  stdout: string[];
  stderr(): string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  /** Resolves when stderr contains `text`. */
  waitStderr(text: string): Promise<void>;
  /** Sends `signal` and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Kills the process if still running and removes CAR_HOME. */
  dispose(): Promise<void>;
}

/** Spawns the daemon on 127.0.0.1 port 0 with a temp CAR_HOME; resolves once both banner lines are out. */
export async function startDaemon(rt: RuntimeName, args: string[] = [], env: Record<string, string> = {}): Promise<Daemon> {
  const command = daemonCommand(rt);
  if ("skip" in command) throw new Error(command.skip);
  const carHome = mkdtempSync(join(tmpdir(), `car-daemon-${rt}-`));
  const proc = spawn(command.cmd, [...command.args, "--host", "127.0.0.1", "--port", "0", ...args], {
    cwd: ROOT,
    env: { ...process.env, CAR_HOME: carHome, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", CAR_NO_AUTH: "", CAR_PORT: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(proc);
  const stdout: string[] = [];
  let err = "";
  const errWaiters: Array<{ text: string; resolve: () => void }> = [];
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => {
    err += d;
    for (const w of errWaiters.splice(0)) (err.includes(w.text) ? w.resolve() : errWaiters.push(w));
  });
  const exited = new Promise<number | null>((res) =>
    proc.once("exit", (code) => {
      children.delete(proc);
      res(code);
    }),
  );
  let buf = "";
  const banner = new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${rt} daemon did not start within 60 s; stderr:\n${err}`)), 60_000);
    proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      stdout.push(...parts);
      if (stdout.length >= 2) {
        clearTimeout(timer);
        res();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`${rt} daemon exited with ${code} before listening; stderr:\n${err}`));
    });
  });
  try {
    await banner;
  } catch (e) {
    proc.kill("SIGKILL");
    rmSync(carHome, { recursive: true, force: true });
    throw e;
  }
  const m = /^car-server listening on ws:\/\/127\.0\.0\.1:(\d+)\/$/.exec(stdout[0]!);
  if (!m) throw new Error(`unexpected first line: ${JSON.stringify(stdout[0])}`);
  const port = Number(m[1]);
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    return exited;
  };
  return {
    runtime: rt,
    proc,
    port,
    url: `ws://127.0.0.1:${port}/`,
    http: `http://127.0.0.1:${port}`,
    carHome,
    stdout,
    stderr: () => err,
    exited,
    waitStderr: (text) => (err.includes(text) ? Promise.resolve() : new Promise((r) => errWaiters.push({ text, resolve: r }))),
    stop,
    dispose: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGKILL");
        await exited;
      }
      rmSync(carHome, { recursive: true, force: true });
    },
  };
}

/** Runs the daemon with `args` expecting it to refuse to start; resolves with its exit code and stderr. */
export async function runRefused(rt: RuntimeName, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const command = daemonCommand(rt);
  if ("skip" in command) throw new Error(command.skip);
  const carHome = mkdtempSync(join(tmpdir(), `car-daemon-${rt}-`));
  try {
    return await runToExit(command.cmd, [...command.args, ...args], { CAR_HOME: carHome, ...env });
  } finally {
    rmSync(carHome, { recursive: true, force: true });
  }
}
