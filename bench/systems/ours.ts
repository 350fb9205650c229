// car-server's engine on the shared benchmark workloads (BENCH.md B1, B2).
import { Runtime } from "car-server"; // the built package (dist), as users run it
import { check, median, report, sleep, timeRuns, type Measurement } from "../lib/measure.ts";

type ActionSpec = { id: string; type: "tool_call"; tool: string; dependencies: string[] };

function chain(n: number): ActionSpec[] {
  return Array.from({ length: n }, (_, i) => ({ id: `n${i}`, type: "tool_call", tool: "noop", dependencies: i ? [`n${i - 1}`] : [] }));
}

function layered(layers: number, width: number): ActionSpec[] {
  const out: ActionSpec[] = [];
  for (let l = 0; l < layers; l++) {
    for (let w = 0; w < width; w++) {
      out.push({ id: `l${l}_${w}`, type: "tool_call", tool: "noop", dependencies: l ? Array.from({ length: width }, (_, p) => `l${l - 1}_${p}`) : [] });
    }
  }
  return out;
}

function fanOut(levels: number, width: number, tool: string): ActionSpec[] {
  const out: ActionSpec[] = [];
  let prev: string[] = [];
  for (let l = 0; l < levels; l++) {
    out.push({ id: `split${l}`, type: "tool_call", tool: "noop", dependencies: prev });
    const work = Array.from({ length: width }, (_, i) => `work${l}_${i}`);
    for (const id of work) out.push({ id, type: "tool_call", tool, dependencies: [`split${l}`] });
    out.push({ id: `join${l}`, type: "tool_call", tool: "noop", dependencies: work });
    prev = [`join${l}`];
  }
  return out;
}

async function run(bench: string, actions: ActionSpec[], runs: number): Promise<Measurement> {
  const prepareTimes: number[] = [];
  let calls = 0;
  const times = await timeRuns(runs, async () => {
    const rt = new Runtime({ maxEvents: 1_000_000 });
    rt.registerTool({ name: "noop" }, async () => {
      calls++;
      return {};
    });
    rt.registerTool({ name: "sleep5" }, async () => {
      calls++;
      await sleep(5);
      return {};
    });
    const t0 = performance.now();
    rt.prepare({ actions });
    prepareTimes.push(performance.now() - t0);
    calls = 0;
    const res = await rt.executeProposal({ actions });
    check(res.results.length === actions.length && res.results.every((r) => r.status === "succeeded"), `${bench}: every action succeeded`);
    check(calls === actions.length, `${bench}: every tool ran once (${calls})`);
  }, 3); // a run takes milliseconds here (a second for the peers), so a few more warm-ups reach the same steady state
  return { bench, system: "car-server", median_ms: median(times), runs: times, extra: { validate_ms: median(prepareTimes), nodes: actions.length } };
}

const benches: Record<string, () => Promise<Measurement>> = {
  b1a: () => run("b1a", chain(1000), 15),
  b1b: () => run("b1b", layered(100, 10), 15),
  b2_noop: () => run("b2_noop", fanOut(10, 50, "noop"), 15),
  b2_5ms: () => run("b2_5ms", fanOut(10, 50, "sleep5"), 15),
};

const name = process.argv[2] ?? "";
const b = benches[name];
if (!b) throw new Error(`unknown bench ${name}; one of ${Object.keys(benches).join(", ")}`);
report(await b());
