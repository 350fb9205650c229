import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** Runs a fixture script (TypeScript, through tsx) in a child Node process. */
export function spawnFixture(name: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", fixture(name), ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * Bundles a fixture and the sources it imports into one plain .mjs in `outDir`, for tests that
 * start it many times: the child then starts in a fraction of tsx's time. Same code, no transform.
 */
export async function bundleFixture(name: string, outDir: string): Promise<(args: string[]) => ChildProcess> {
  const outfile = join(outDir, name.replace(/\.ts$/, ".mjs"));
  await build({ entryPoints: [fixture(name)], outfile, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "error" });
  return (args) => spawn(process.execPath, [outfile, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

/** Resolves once the child printed `line` on stdout; rejects if it exits first (with its stderr). */
export function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const onOut = (b: Buffer) => {
      out += b.toString();
      if (out.split("\n").includes(line)) {
        child.stdout?.off("data", onOut);
        resolve();
      }
    };
    child.stdout?.on("data", onOut);
    child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
    child.once("exit", (code) => reject(new Error(`child exited (${code}) before printing ${line}: ${err}`)));
  });
}

/** Kills the child with SIGKILL and waits until it has been reaped. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}
