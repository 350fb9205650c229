// Mastra workflows on the shared benchmark workloads (BENCH.md B1, B2), built as BENCH.md describes.
import { createStep, createWorkflow } from "@mastra/core/workflows";
import { z } from "zod";
import { check, median, report, sleep, timeRuns, type Measurement } from "../lib/measure.ts";

const empty = z.object({});
const opts = { validateInputs: false, shouldPersistSnapshot: () => false };

function noopStep(id: string, counter: { n: number }) {
  return createStep({ id, inputSchema: empty, outputSchema: empty, execute: async () => (counter.n++, {}) });
}

async function chainBench(): Promise<Measurement> {
  const n = 1000;
  const counter = { n: 0 };
  const times = await timeRuns(3, async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let wf: any = createWorkflow({ id: "chain", inputSchema: empty, outputSchema: empty, options: opts });
    for (let i = 0; i < n; i++) wf = wf.then(noopStep(`n${i}`, counter));
    wf.commit();
    counter.n = 0;
    const run = await wf.createRunAsync();
    const res = await run.start({ inputData: {} });
    check(res.status === "success" && counter.n === n, `b1a: status ${res.status}, ${counter.n} of ${n} steps ran`);
  });
  return { bench: "b1a", system: "mastra", median_ms: median(times), runs: times, extra: { nodes: n } };
}

async function layeredBench(): Promise<Measurement> {
  const layers = 100;
  const width = 10;
  const counter = { n: 0 };
  const times = await timeRuns(3, async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let wf: any = createWorkflow({ id: "layered", inputSchema: empty, outputSchema: z.any(), options: opts });
    for (let l = 0; l < layers; l++) {
      const steps = Array.from({ length: width }, (_, w) => createStep({ id: `l${l}_${w}`, inputSchema: z.any(), outputSchema: empty, execute: async () => (counter.n++, {}) }));
      wf = wf.parallel(steps);
    }
    wf.commit();
    counter.n = 0;
    const res = await (await wf.createRunAsync()).start({ inputData: {} });
    check(res.status === "success" && counter.n === layers * width, `b1b: status ${res.status}, ${counter.n} steps ran`);
  });
  return { bench: "b1b", system: "mastra", median_ms: median(times), runs: times, extra: { nodes: layers * width } };
}

async function fanBench(bench: string, workMs: number): Promise<Measurement> {
  const levels = 10;
  const width = 50;
  const counter = { n: 0 };
  const times = await timeRuns(3, async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let wf: any = createWorkflow({ id: "fan", inputSchema: z.any(), outputSchema: z.any(), options: opts });
    for (let l = 0; l < levels; l++) {
      const split = createStep({ id: `split${l}`, inputSchema: z.any(), outputSchema: z.array(z.object({ i: z.number() })), execute: async () => (counter.n++, Array.from({ length: width }, (_, i) => ({ i }))) });
      const work = createStep({
        id: `work${l}`,
        inputSchema: z.object({ i: z.number() }),
        outputSchema: empty,
        execute: async () => {
          counter.n++;
          if (workMs) await sleep(workMs);
          return {};
        },
      });
      wf = wf.then(split).foreach(work, { concurrency: width });
    }
    wf.commit();
    counter.n = 0;
    const res = await (await wf.createRunAsync()).start({ inputData: {} });
    check(res.status === "success" && counter.n === levels * (width + 1), `${bench}: status ${res.status}, ${counter.n} steps ran`);
  });
  return { bench, system: "mastra", median_ms: median(times), runs: times, extra: { nodes: levels * (width + 1) } };
}

const benches: Record<string, () => Promise<Measurement>> = {
  b1a: chainBench,
  b1b: layeredBench,
  b2_noop: () => fanBench("b2_noop", 0),
  b2_5ms: () => fanBench("b2_5ms", 5),
};
const name = process.argv[2] ?? "";
const b = benches[name];
if (!b) throw new Error(`unknown bench ${name}`);
report(await b());
