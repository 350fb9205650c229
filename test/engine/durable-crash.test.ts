import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { createFsAppendLog } from "../../adapters/storage/fs.ts";
import { Runtime, openDurableRuntime, readJournal, replay } from "../../src/index.ts";
import { chainProposal, stepOutput } from "./durable-helpers.ts";

const root = await mkdtemp(join(tmpdir(), "car-durable-"));
after(() => rm(root, { recursive: true, force: true }));
// Bundled once: the child then starts in a fraction of tsx's time.
const bundle = join(root, "durable-chain.mjs");
await build({ entryPoints: [fileURLToPath(new URL("./fixtures/durable-chain.ts", import.meta.url))], outfile: bundle, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "error" });

const N = 24;

/** Runs the chain in a child and SIGKILLs it as soon as `killOn` is printed. */
async function runAndKill(dir: string, hangAt: number, killOn: string): Promise<void> {
  const child = spawn(process.execPath, [bundle, join(dir, "events.log"), join(dir, "runs"), String(N), String(hangAt)], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.split("\n").includes(killOn)) child.kill("SIGKILL");
    });
    child.once("exit", (code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`child exited by itself (${code}): ${out}${err}`))));
  });
}

/** How many times each step ran, across both processes. */
function runs(dir: string): number[] {
  const counts = new Array<number>(N).fill(0);
  for (const line of readFileSync(join(dir, "runs"), "utf8").split("\n")) if (line) counts[Number(line)]!++;
  return counts;
}

/** Reopens the journal in this process and recovers with a step tool that logs to the same side file. */
async function recover(dir: string) {
  const journal = await createFsAppendLog({ path: join(dir, "events.log") });
  const before = await readJournal(journal);
  const durable = new Set(before.filter((e) => e.kind === "action_succeeded").map((e) => Number(e.action_id!.slice(1))));
  const { runtime, recovery } = await openDurableRuntime({
    journal,
    setup: (rt) => void rt.registerTool({ name: "step" }, (p) => (appendFileSync(join(dir, "runs"), `${p["i"]}\n`), stepOutput(p))),
  });
  const rt = new Runtime();
  rt.registerTool({ name: "step" }, (p) => stepOutput(p));
  const ref = await rt.executeProposal(chainProposal(N));
  const rep = await replay(await readJournal(journal));
  await journal.close();
  return { runtime, recovery, durable, refState: rt.state.snapshot(), ref, rep };
}

test("SIGKILL while step 0.75·N runs: reopening the fs journal resumes the proposal, every step ran exactly once, replay reproduces it", async () => {
  const dir = await mkdtemp(join(root, "hang-"));
  const hangAt = Math.floor(0.75 * N);
  await runAndKill(dir, hangAt, `started ${hangAt}`);
  const { runtime, recovery, durable, refState, ref, rep } = await recover(dir);
  assert.equal(durable.size, hangAt, "every step before the killed one was durable");
  assert.deepEqual(runs(dir), new Array(N).fill(1), "each step ran exactly once over both processes");
  const resumed = recovery.resumed[0]!;
  assert.equal(resumed.adopted.length, hangAt);
  assert.equal(resumed.rerun.length, N - hangAt);
  assert.deepEqual(runtime.state.snapshot(), refState);
  assert.deepEqual(resumed.result!.results.map((r) => r.output), ref.results.map((r) => r.output));
  assert.deepEqual(rep.divergences, []);
  assert.deepEqual(rep.finalState, refState);
});

test("SIGKILL right after a step completed: steps with a durable outcome never run again; only the one in flight may", async () => {
  const dir = await mkdtemp(join(root, "free-"));
  await runAndKill(dir, -1, `done ${N / 2}`);
  const { runtime, recovery, durable, refState, rep } = await recover(dir);
  const counts = runs(dir);
  assert.ok(durable.size >= N / 2 - 1 && durable.size < N, `${durable.size} steps durable at the kill`);
  for (let i = 0; i < N; i++) {
    if (durable.has(i)) assert.equal(counts[i], 1, `durable step ${i} ran once`);
    else assert.ok(counts[i] === 1 || (counts[i] === 2 && i === durable.size), `step ${i} ran ${counts[i]} times`);
  }
  assert.equal(recovery.resumed[0]!.adopted.length, durable.size);
  assert.deepEqual(runtime.state.snapshot(), refState);
  assert.deepEqual(rep.divergences, []);
  assert.deepEqual(rep.finalState, refState);
});
