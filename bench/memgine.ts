// Memgine at scale: adds N facts (default 100k) of Zipf-distributed synthetic words, then reports
// query, buildContext and buildContextFast latency (p50/p95) and heap memory per fact.
// Run: node --import tsx bench/memgine.ts [facts]
import v8 from "node:v8";
import vm from "node:vm";
import { performance } from "node:perf_hooks";
import { ManualClock } from "../src/engine/clock.ts";
import { SeededRandom } from "../src/engine/random.ts";
import { Memgine } from "../src/memgine/memgine.ts";
import { estimateTokens } from "../src/memgine/context.ts";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const N = Number(process.argv[2] ?? 100_000);
const VOCAB = 20_000;
const QUERIES = 300;
const rnd = new SeededRandom(2026);

// Pronounceable pseudo-words, so the stemmer and tokenizer do real work.
const SYL = ["ka", "lo", "mir", "ten", "sa", "vor", "di", "nex", "ru", "pel", "gan", "tio", "sh", "ber", "qu", "al", "ing", "ed", "ment", "ation"];
const vocab: string[] = [];
const seen = new Set<string>();
while (vocab.length < VOCAB) {
  let w = "";
  const n = 2 + Math.floor(rnd.next() * 3);
  for (let i = 0; i < n; i++) w += SYL[Math.floor(rnd.next() * SYL.length)];
  if (!seen.has(w)) (seen.add(w), vocab.push(w));
}
// Zipf (s = 1) over the vocabulary: a few very common words, a long tail of rare ones.
const cdf: number[] = [];
let acc = 0;
for (let r = 1; r <= VOCAB; r++) cdf.push((acc += 1 / r));
const word = () => {
  const x = rnd.next() * acc;
  let lo = 0;
  let hi = VOCAB - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return vocab[lo]!;
};
const phrase = (min: number, max: number) => Array.from({ length: min + Math.floor(rnd.next() * (max - min + 1)) }, word).join(" ");

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

async function main() {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const mem = new Memgine({ clock: new ManualClock(), random: new SeededRandom(1) });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    // Subjects carry a serial so facts do not supersede each other.
    await mem.addFact(`${phrase(1, 2)} ${i}`, phrase(8, 16), i % 50 === 0 ? "constraint" : "pattern", { confidence: 0.5 + rnd.next() / 2 });
  }
  const addMs = performance.now() - t0;
  gc();
  const heap1 = process.memoryUsage().heapUsed;
  if (mem.factCount !== N) throw new Error(`expected ${N} facts, have ${mem.factCount}`);

  const queries = Array.from({ length: QUERIES }, () => phrase(2, 4));
  // Warm-up so the JIT has compiled the hot paths.
  for (const q of queries.slice(0, 30)) await mem.query(q, 5);

  const qTimes: number[] = [];
  let hits = 0;
  for (const q of queries) {
    const s = performance.now();
    const r = await mem.query(q, 5);
    qTimes.push(performance.now() - s);
    hits += r.length;
  }
  if (hits < QUERIES) throw new Error(`queries found too little (${hits} hits for ${QUERIES} queries)`);

  const cTimes: number[] = [];
  let tokens = 0;
  for (const q of queries.slice(0, 100)) {
    const s = performance.now();
    const ctx = await mem.buildContext(q);
    cTimes.push(performance.now() - s);
    tokens = Math.max(tokens, estimateTokens(ctx));
  }
  const fTimes: number[] = [];
  for (let i = 0; i < 100; i++) {
    const s = performance.now();
    const ctx = mem.buildContextFast();
    fTimes.push(performance.now() - s);
    if (estimateTokens(ctx) > 8000) throw new Error("fast context over budget");
  }
  if (tokens > 8000) throw new Error("context over budget");

  console.log(`memgine bench: ${N.toLocaleString("en")} facts, vocabulary ${VOCAB.toLocaleString("en")} (Zipf), Node ${process.version}`);
  console.log(`  add:               ${(addMs / 1000).toFixed(2)} s total, ${((addMs * 1000) / N).toFixed(1)} µs/fact`);
  console.log(`  query (k=5):       p50 ${fmt(pct(qTimes, 50))}  p95 ${fmt(pct(qTimes, 95))}  (${QUERIES} queries of 2-4 words)`);
  console.log(`  buildContext:      p50 ${fmt(pct(cTimes, 50))}  p95 ${fmt(pct(cTimes, 95))}  (8k-token budget, largest ${tokens} tokens)`);
  console.log(`  buildContextFast:  p50 ${fmt(pct(fTimes, 50))}  p95 ${fmt(pct(fTimes, 95))}`);
  console.log(`  heap per fact:     ${((heap1 - heap0) / N).toFixed(0)} bytes (graph + index, after GC)`);
}

await main();
