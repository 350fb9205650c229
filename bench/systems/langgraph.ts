// LangGraph.js on the shared benchmark workloads (BENCH.md B1, B2), built as its docs and bench do.
import { END, MessagesAnnotation, START, StateGraph, Send, Annotation } from "@langchain/langgraph";
import { check, median, report, sleep, timeRuns, type Measurement } from "../lib/measure.ts";

async function chainBench(): Promise<Measurement> {
  const n = 1000;
  let calls = 0;
  const compileTimes: number[] = [];
  const times = await timeRuns(3, async () => {
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const g: any = new StateGraph(MessagesAnnotation);
    for (let i = 0; i < n; i++) g.addNode(`n${i}`, async () => (calls++, {}));
    g.addEdge(START, "n0");
    for (let i = 1; i < n; i++) g.addEdge(`n${i - 1}`, `n${i}`);
    g.addEdge(`n${n - 1}`, END);
    const app = g.compile();
    compileTimes.push(performance.now() - t0);
    calls = 0;
    await app.invoke({ messages: [] }, { recursionLimit: 10_000 });
    check(calls === n, `b1a: ${calls} of ${n} nodes ran`);
  });
  return { bench: "b1a", system: "langgraph", median_ms: median(times), runs: times, extra: { compile_ms: median(compileTimes), nodes: n } };
}

async function layeredBench(): Promise<Measurement> {
  const layers = 100;
  const width = 10;
  let calls = 0;
  const compileTimes: number[] = [];
  const times = await timeRuns(3, async () => {
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const g: any = new StateGraph(MessagesAnnotation);
    const name = (l: number, w: number) => `l${l}_${w}`;
    for (let l = 0; l < layers; l++) for (let w = 0; w < width; w++) g.addNode(name(l, w), async () => (calls++, {}));
    for (let w = 0; w < width; w++) g.addEdge(START, name(0, w));
    for (let l = 1; l < layers; l++) {
      const prev = Array.from({ length: width }, (_, w) => name(l - 1, w));
      for (let w = 0; w < width; w++) g.addEdge(prev, name(l, w));
    }
    for (let w = 0; w < width; w++) g.addEdge(name(layers - 1, w), END);
    const app = g.compile();
    compileTimes.push(performance.now() - t0);
    calls = 0;
    await app.invoke({ messages: [] }, { recursionLimit: 10_000 });
    check(calls === layers * width, `b1b: ${calls} of ${layers * width} nodes ran`);
  });
  return { bench: "b1b", system: "langgraph", median_ms: median(times), runs: times, extra: { compile_ms: median(compileTimes), nodes: layers * width } };
}

async function fanBench(bench: string, workMs: number): Promise<Measurement> {
  const levels = 10;
  const width = 50;
  let calls = 0;
  const State = Annotation.Root({
    level: Annotation<number>({ reducer: (_a, b) => b, default: () => 0 }),
    done: Annotation<number>({ reducer: (a, b) => a + b, default: () => 0 }),
  });
  const times = await timeRuns(3, async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const g: any = new StateGraph(State);
    g.addNode("split", async () => (calls++, {}));
    g.addNode("work", async (_s: { i: number }) => {
      calls++;
      if (workMs) await sleep(workMs);
      return { done: 1 };
    });
    g.addNode("join", async (s: { level: number }) => (calls++, { level: s.level + 1 }));
    g.addEdge(START, "split");
    g.addConditionalEdges("split", () => Array.from({ length: width }, (_, i) => new Send("work", { i })));
    g.addEdge("work", "join");
    g.addConditionalEdges("join", (s: { level: number }) => (s.level < levels ? "split" : END));
    const app = g.compile();
    calls = 0;
    const out = await app.invoke({ level: 0, done: 0 }, { recursionLimit: 100 });
    check(out.done === levels * width && calls === levels * (width + 2), `${bench}: ${out.done} work items, ${calls} node runs`);
  });
  return { bench, system: "langgraph", median_ms: median(times), runs: times, extra: { nodes: levels * (width + 2) } };
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
