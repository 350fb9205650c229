// Time of verify() per 1,000 actions on random DAGs of 1k, 10k and 100k actions (5 tools with
// JSON Schemas; explicit dependencies, $<id>.output references, state-key edges, preconditions).
// Run: node --expose-gc --import tsx bench/verify.ts   (prints a table; asserts the work was really done)
// With --expose-gc each timed run starts after a full GC, which steadies the numbers.
import { SeededRandom, verify } from "../src/index.ts";

const TOOLS = [
  { name: "search", parameters: { type: "object", required: ["query"], properties: { query: { type: "string", minLength: 1 }, limit: { type: "integer", minimum: 1, maximum: 50 } }, additionalProperties: false } },
  { name: "fetch", parameters: { type: "object", required: ["url"], properties: { url: { type: "string", pattern: "^https?://" }, method: { enum: ["GET", "POST"] } } } },
  { name: "write_file", parameters: { type: "object", required: ["path", "content"], properties: { path: { type: "string" }, content: { type: "string" } } } },
  { name: "compute", parameters: { type: "object", required: ["op", "args"], properties: { op: { const: "sum" }, args: { type: "array", items: { $ref: "#/$defs/num" } } }, $defs: { num: { type: "number" } } } },
  { name: "notify", parameters: { type: "object", properties: { to: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] }, body: { type: "string" } }, required: ["to"] } },
];

function params(tool: string, i: number, ref: string | undefined): Record<string, unknown> {
  switch (tool) {
    case "search": return { query: ref ?? `q${i}`, limit: 1 + (i % 50) };
    case "fetch": return { url: `https://example.com/${i}`, method: i % 2 ? "GET" : "POST" };
    case "write_file": return { path: `/tmp/f${i}`, content: ref ?? `c${i}` };
    case "compute": return { op: "sum", args: [i, i + 1, i + 2] };
    default: return { to: i % 2 ? `u${i}` : [`u${i}`, `v${i}`], body: ref ?? "hi" };
  }
}

/** A random DAG: each action waits on up to 2 random earlier ones and reads/writes keys from a pool. */
function proposal(n: number, seed: number) {
  const rnd = new SeededRandom(seed);
  const int = (k: number) => Math.floor(rnd.next() * k);
  const keys = Math.max(8, Math.floor(n / 4));
  const actions = [];
  let edges = 0;
  for (let i = 0; i < n; i++) {
    const tool = TOOLS[int(TOOLS.length)]!.name;
    const deps = i > 0 && rnd.next() < 0.6 ? [...new Set([`a${int(i)}`, ...(rnd.next() < 0.3 ? [`a${int(i)}`] : [])])] : [];
    edges += deps.length;
    const ref = i > 0 && rnd.next() < 0.2 ? `$a${int(i)}.output` : undefined;
    actions.push({
      id: `a${i}`,
      type: "tool_call" as const,
      tool,
      parameters: params(tool, i, ref),
      dependencies: deps,
      expected_effects: rnd.next() < 0.5 ? { [`k${int(keys)}`]: i } : {},
      state_dependencies: rnd.next() < 0.3 ? [`k${int(keys)}`] : [],
      preconditions: rnd.next() < 0.2 ? [{ key: `k${int(keys)}`, operator: "exists" }] : [],
    });
  }
  return { proposal: { actions }, edges };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: Array<{ actions: number; explicit_edges: number; levels: number; issues: number; ms_total: number; ms_per_1k_actions: number }> = [];
verify(proposal(1000, 99).proposal, { tools: TOOLS, maxActions: Infinity }); // warm-up (JIT, validator compilation)
for (const n of [1_000, 10_000, 100_000]) {
  const { proposal: p, edges } = proposal(n, n);
  const runs = n >= 100_000 ? 3 : 7;
  const times: number[] = [];
  let res;
  for (let r = 0; r < runs; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    res = verify(p, { tools: TOOLS, maxActions: Infinity });
    times.push(performance.now() - t0);
  }
  const levelled = res!.execution_levels.reduce((s, l) => s + l.length, 0);
  if (levelled !== n) throw new Error(`verify levelled ${levelled} of ${n} actions`);
  if (res!.evidence.checks.some((c) => c.name === "param_schema" && !c.ran)) throw new Error("schemas were not checked");
  const ms = median(times);
  rows.push({ actions: n, explicit_edges: edges, levels: res!.execution_levels.length, issues: res!.issues.length, ms_total: Math.round(ms * 10) / 10, ms_per_1k_actions: Math.round((ms / n) * 1000 * 100) / 100 });
}
console.table(rows);
const base = rows[0]!.ms_per_1k_actions;
console.log(`per-1k-actions time relative to 1k: ${rows.map((r) => (r.ms_per_1k_actions / base).toFixed(2)).join(" / ")} (≈1 = linear)`);
