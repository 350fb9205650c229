import { spawn, type ChildProcess } from "node:child_process";
import process from "node:process";
import { CanceledError, CarError } from "../../src/errors.ts";
import { reasonOf } from "../../src/engine/clock.ts";
import type { SubprocessResult, SubprocessRunner, SubprocessSpec } from "../../src/engine/subprocess.ts";

/** Options of the node:child_process runner (works on Node, Bun and Deno). */
export interface NodeSubprocessRunnerOptions {
  /** The host environment `envAllow` picks from (default: `process.env`). */
  hostEnv?: Record<string, string | undefined>;
  /** After a kill, how long to wait for the pipes to close before giving up on them (default 2,000 ms). */
  pipeCloseGraceMs?: number;
}

/**
 * Spawns programs with node:child_process: no shell, an allow-listed environment, capped output,
 * and a timeout / abort that kills the child's whole process group (so its children die too).
 */
export function createNodeSubprocessRunner(options: NodeSubprocessRunnerOptions = {}): SubprocessRunner {
  const hostEnv = options.hostEnv ?? process.env;
  const grace = options.pipeCloseGraceMs ?? 2_000;
  return {
    run: (spec) => runOnce(spec, hostEnv, grace),
  };
}

function runOnce(spec: SubprocessSpec, hostEnv: Record<string, string | undefined>, graceMs: number): Promise<SubprocessResult> {
  return new Promise((resolve, reject) => {
    if (spec.argv.length === 0 || !spec.argv[0]) return reject(new CarError("invalid_input", "subprocess", "argv must name a program"));
    if (spec.signal?.aborted) return reject(new CanceledError("subprocess", reasonOf(spec.signal)));
    const env: Record<string, string> = {};
    for (const name of spec.envAllow ?? []) if (hostEnv[name] !== undefined) env[name] = hostEnv[name]!;
    Object.assign(env, spec.env ?? {});
    const started = Date.now();
    const posix = process.platform !== "win32";
    let child: ChildProcess;
    try {
      // detached: the child leads a new process group, so one kill reaches its descendants.
      child = spawn(spec.argv[0], spec.argv.slice(1), { cwd: spec.cwd, env, shell: false, detached: posix, windowsHide: true, stdio: ["pipe", "pipe", "pipe"] });
    } catch (err) {
      return reject(new CarError("tool_error", "subprocess", `cannot start ${spec.argv[0]}: ${(err as Error).message}`));
    }
    const out = capture(spec.maxStdoutBytes);
    const errOut = capture(spec.maxStderrBytes);
    child.stdout!.on("data", out.push);
    child.stderr!.on("data", errOut.push);
    let timedOut = false;
    let canceled: string | undefined;
    let settled = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let graceTimer: ReturnType<typeof setTimeout> | undefined;

    const killTree = () => {
      if (child.pid === undefined) return;
      try {
        if (posix) process.kill(-child.pid, "SIGKILL");
        else spawn("taskkill", ["/pid", String(child.pid), "/T", "/F"], { stdio: "ignore", windowsHide: true });
      } catch {
        child.kill("SIGKILL");
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killTree();
    }, spec.timeoutMs);
    const onAbort = () => {
      canceled = reasonOf(spec.signal!);
      killTree();
    };
    spec.signal?.addEventListener("abort", onAbort, { once: true });

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      spec.signal?.removeEventListener("abort", onAbort);
      if (canceled !== undefined) return reject(new CanceledError("subprocess", canceled));
      resolve({
        exit_code: exit?.code ?? null,
        signal: exit?.signal ?? null,
        stdout: out.text(),
        stderr: errOut.text(),
        stdout_truncated: out.truncated(),
        stderr_truncated: errOut.truncated(),
        timed_out: timedOut,
        duration_ms: Date.now() - started,
      });
    };
    child.on("error", (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      spec.signal?.removeEventListener("abort", onAbort);
      reject(new CarError("tool_error", "subprocess", `cannot run ${spec.argv[0]}: ${err.message}`));
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      // A descendant that escaped the group may hold the pipes open: stop waiting for them.
      graceTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, graceMs);
    });
    child.on("close", (code, signal) => {
      exit ??= { code, signal };
      finish();
    });
    child.stdin!.on("error", () => {}); // a child that exits without reading stdin is not an error
    if (spec.stdin !== undefined) child.stdin!.end(spec.stdin);
    else child.stdin!.end();
  });
}

function capture(max: number) {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = false;
  return {
    push: (chunk: Buffer) => {
      if (kept >= max) {
        if (chunk.length > 0) dropped = true;
        return;
      }
      const take = Math.min(chunk.length, max - kept);
      chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      kept += take;
      if (take < chunk.length) dropped = true;
    },
    text: () => new TextDecoder().decode(Buffer.concat(chunks)),
    truncated: () => dropped,
  };
}
