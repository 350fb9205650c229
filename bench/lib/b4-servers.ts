// B4's servers, each in its own child process: the car-server daemon (built dist, as users run it)
// and the bare `ws` echo. Both print their URL as the first stdout line.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** A running server child. */
export interface ServerChild {
  url: string;
  pid: number | undefined;
  /** Stops the child (SIGTERM) and waits for it to exit; rejects if it exits non-zero. */
  stop(): Promise<void>;
  /** What the child wrote to stderr so far. */
  stderr(): string;
  /** CPU milliseconds (user + system) the child used so far; NaN where /proc is missing. */
  cpuMs(): number;
}

/** CPU time of a process from /proc (Linux), in ms: robust where wall time is not on a shared machine. */
export function cpuMsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ")"; utime and stime are the 12th and 13th of them.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

function waitForUrl(child: ChildProcess, name: string, logs: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (ws:\/\/\S+)/.exec(out);
      if (m) {
        child.stdout!.off("data", onData);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${name} exited (${code}) before listening:\n${out}\n${logs()}`)));
  });
}

// Children still running when this process exits (a failed check, a crash) are killed with it.
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

function track(child: ChildProcess, name: string, cleanup: () => void): Omit<ServerChild, "url"> {
  running.add(child);
  child.once("exit", () => running.delete(child));
  let err = "";
  child.stderr!.on("data", (c: Buffer) => void (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    pid: child.pid,
    stderr: () => err,
    cpuMs: () => cpuMsOf(child.pid),
    async stop() {
      child.kill("SIGTERM");
      const code = await exited;
      cleanup();
      if (code !== 0) throw new Error(`${name} exited ${code}:\n${err.slice(-2000)}`);
    },
  };
}

/**
 * Starts `car-server --no-auth --port 0` from dist with a throw-away CAR_HOME. `nodeArgs` go to
 * node (e.g. `--cpu-prof`: the profile is written when it exits).
 */
export async function startDaemon(nodeArgs: string[] = []): Promise<ServerChild> {
  const home = mkdtempSync(join(tmpdir(), "car-b4-"));
  const child = spawn(process.execPath, [...nodeArgs, join(root, "dist/runtimes/cli.js"), "--no-auth", "--port", "0"], {
    env: { ...process.env, CAR_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const t = track(child, "car-server", () => rmSync(home, { recursive: true, force: true }));
  const url = await waitForUrl(child, "car-server", t.stderr);
  return { url, ...t };
}

/** Starts the bare echo with the two frames it answers with. */
export async function startEcho(callbackFrame: Uint8Array, responseFrame: Uint8Array, binary: boolean): Promise<ServerChild> {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "bench/systems/ws-echo.ts")], { stdio: ["pipe", "pipe", "pipe"] });
  child.stdin!.end(JSON.stringify({ binary, callback: Buffer.from(callbackFrame).toString("base64"), response: Buffer.from(responseFrame).toString("base64") }));
  const t = track(child, "ws-echo", () => {});
  const url = await waitForUrl(child, "ws-echo", t.stderr);
  return { url, ...t };
}
