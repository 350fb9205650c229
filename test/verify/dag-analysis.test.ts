import { test } from "node:test";
import assert from "node:assert/strict";
import { ActionSchema, ProposalRejectedError, analyzeDag, buildDag, type Action } from "../../src/index.ts";

const parse = (xs: Array<Record<string, unknown>>) => xs.map((x) => ActionSchema.parse(x) as Action);

test("analyzeDag reports duplicates, unknown dependencies/references and every cycle without throwing", () => {
  const actions = parse([
    { id: "a", type: "tool_call", tool: "t", dependencies: ["b"] },
    { id: "b", type: "tool_call", tool: "t", dependencies: ["a"] },
    { id: "c", type: "tool_call", tool: "t", dependencies: ["a"] }, // behind the cycle
    { id: "d", type: "tool_call", tool: "t", dependencies: ["ghost"], parameters: { v: "$nobody.output" } },
    { id: "e", type: "tool_call", tool: "t", dependencies: ["f"] },
    { id: "f", type: "tool_call", tool: "t", dependencies: ["e"] },
    { id: "d", type: "tool_call", tool: "t" },
  ]);
  const a = analyzeDag(actions);
  assert.deepEqual(
    a.findings.map((f) => [f.kind, f.action_id]),
    [["duplicate_id", "d"], ["unknown_dependency", "d"], ["unknown_dependency", "d"], ["cycle", "a"], ["cycle", "e"]],
  );
  assert.deepEqual(a.findings.filter((f) => f.kind === "cycle").map((f) => f.message), ["dependency cycle: a -> b -> a", "dependency cycle: e -> f -> e"]);
  assert.deepEqual([...a.level], [-1, -1, -1, 0, -1, -1, 0]);
  assert.deepEqual(a.levels, [[3, 6]]);
  // buildDag throws the first finding, as the engine always did.
  assert.throws(() => buildDag(actions), (e: unknown) => e instanceof ProposalRejectedError && e.reason === "duplicate_id");
  assert.throws(() => buildDag(actions.slice(0, 3)), (e: unknown) => e instanceof ProposalRejectedError && e.reason === "cycle" && /a -> b -> a/.test(e.message));
});

test("levels of a 100,000-action chain come out without recursion (no stack overflow)", () => {
  const n = 100_000;
  const actions = Array.from({ length: n }, (_, i) => ({ id: `a${i}`, type: "tool_call", tool: "t", dependencies: i ? [`a${i - 1}`] : [] }) as unknown as Action);
  for (const a of actions) Object.assign(a, { parameters: {}, preconditions: [], expected_effects: {}, state_dependencies: [] });
  const a = analyzeDag(actions);
  assert.equal(a.levels.length, n);
  assert.equal(a.edges, n - 1);
  assert.deepEqual(a.findings, []);
  const dag = buildDag(actions);
  assert.deepEqual([...dag.deps.get("a5")!], ["a4"]);
});
