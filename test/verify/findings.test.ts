import { test } from "node:test";
import assert from "node:assert/strict";
import { ValidationError, verify, type VerifyOptions, type VerifyResult } from "../../src/index.ts";

type A = Record<string, unknown>;
const TOOLS = [{ name: "search", parameters: { type: "object", properties: { q: { type: "string" } } } }, { name: "send" }];

function run(actions: A[], options: VerifyOptions = {}): VerifyResult {
  return verify({ actions }, { tools: TOOLS, ...options });
}
/** Issues raised by one check. */
function of(res: VerifyResult, check: string) {
  return res.issues.filter((i) => i.check === check);
}

test("result has exactly the reference's shape; every check appears in the evidence with a tier", () => {
  const res = run([{ id: "a", type: "tool_call", tool: "search", parameters: { q: "x" } }]);
  assert.deepEqual(Object.keys(res).sort(), ["conflicts", "evidence", "execution_levels", "issues", "simulated_state", "valid"]);
  assert.deepEqual(Object.keys(res.evidence).sort(), ["assumptions", "checks", "confidence", "residual_risks", "untested_regions"]);
  assert.equal(res.valid, true);
  assert.deepEqual(res.issues, []);
  assert.deepEqual(res.execution_levels, [["a"]]);
  const names = res.evidence.checks.map((c) => c.name);
  for (const n of ["action_ids", "dependencies", "references", "cycles", "max_actions", "unknown_tool", "param_schema", "policies", "capabilities", "preconditions", "state_dependencies", "effects", "write_conflicts", "repeated_calls"]) {
    assert.ok(names.includes(n), n);
  }
  for (const c of res.evidence.checks) {
    assert.deepEqual(Object.keys(c).sort(), ["cannot_verify", "findings", "name", "ran", "tier", "verifies"]);
    assert.ok(["decision_procedure", "heuristic", "sampled"].includes(c.tier));
  }
  assert.equal(res.evidence.checks.find((c) => c.name === "repeated_calls")!.tier, "heuristic");
  assert.equal(res.evidence.checks.find((c) => c.name === "policies")!.ran, false);
  assert.ok(res.evidence.confidence > 0 && res.evidence.confidence < 1);
  assert.ok(res.evidence.untested_regions.some((u) => u.startsWith("policies")));
});

test("input that is not a proposal is a ValidationError naming the field", () => {
  assert.throws(() => verify({ actions: [{ id: "a", type: "nope" }] }), (e: unknown) => e instanceof ValidationError && e.code === "invalid_proposal" && e.issues.some((i) => i.path === "actions[0].type"));
  assert.throws(() => verify(42), ValidationError);
});

test("unknown tool: error naming the registered tools; absent without tools, and a known tool is fine", () => {
  const bad = run([{ id: "a", type: "tool_call", tool: "nope" }]);
  assert.equal(bad.valid, false);
  assert.equal(of(bad, "unknown_tool").length, 1);
  assert.equal(of(bad, "unknown_tool")[0]!.severity, "error");
  assert.equal(of(bad, "unknown_tool")[0]!.tier, "decision_procedure");
  assert.match(of(bad, "unknown_tool")[0]!.message, /unknown tool "nope" \(registered: search, send\)/);
  assert.equal(run([{ id: "a", type: "tool_call", tool: "send" }]).valid, true);
  const noTools = verify({ actions: [{ id: "a", type: "tool_call", tool: "nope" }] });
  assert.equal(noTools.valid, true);
  assert.equal(noTools.evidence.checks.find((c) => c.name === "unknown_tool")!.ran, false);
});

// One schema per keyword family: [name, schema, bad parameters, good parameters].
const SCHEMA_CASES: Array<[string, A, A, A]> = [
  ["type", { type: "object", properties: { n: { type: "integer" } } }, { n: "1" }, { n: 1 }],
  ["required", { type: "object", required: ["q"] }, {}, { q: 1 }],
  ["properties (nested)", { type: "object", properties: { o: { type: "object", properties: { s: { type: "string" } } } } }, { o: { s: 1 } }, { o: { s: "x" } }],
  ["additionalProperties", { type: "object", properties: { a: {} }, additionalProperties: false }, { a: 1, b: 2 }, { a: 1 }],
  ["enum", { type: "object", properties: { m: { enum: ["GET", "POST"] } } }, { m: "PUT" }, { m: "GET" }],
  ["const", { type: "object", properties: { v: { const: 2 } } }, { v: 3 }, { v: 2 }],
  ["items", { type: "object", properties: { l: { type: "array", items: { type: "number" } } } }, { l: [1, "x"] }, { l: [1, 2] }],
  ["minimum/maximum", { type: "object", properties: { n: { type: "number", minimum: 1, maximum: 5 } } }, { n: 9 }, { n: 3 }],
  ["minLength/maxItems", { type: "object", properties: { s: { type: "string", minLength: 2 }, l: { type: "array", maxItems: 1 } } }, { s: "x", l: [1, 2] }, { s: "xy", l: [1] }],
  ["pattern", { type: "object", properties: { url: { type: "string", pattern: "^https://" } } }, { url: "ftp://x" }, { url: "https://x" }],
  ["oneOf", { type: "object", properties: { v: { oneOf: [{ type: "string" }, { type: "number" }] } } }, { v: true }, { v: 1 }],
  ["anyOf", { type: "object", properties: { v: { anyOf: [{ type: "string" }, { type: "number", minimum: 3 }] } } }, { v: 1 }, { v: 4 }],
  ["allOf", { type: "object", properties: { v: { allOf: [{ type: "number" }, { multipleOf: 2 }] } } }, { v: 3 }, { v: 4 }],
  ["local $ref ($defs)", { type: "object", properties: { p: { $ref: "#/$defs/pt" } }, $defs: { pt: { type: "object", required: ["x"] } } }, { p: {} }, { p: { x: 1 } }],
  ["local $ref (definitions, draft-07)", { $schema: "http://json-schema.org/draft-07/schema#", type: "object", properties: { p: { $ref: "#/definitions/n" } }, definitions: { n: { type: "number" } } }, { p: "1" }, { p: 1 }],
];

for (const [name, schema, bad, good] of SCHEMA_CASES) {
  test(`param_schema: ${name} violation is an error; valid parameters pass`, () => {
    const tools = [{ name: "t", parameters: schema }];
    const b = verify({ actions: [{ id: "a", type: "tool_call", tool: "t", parameters: bad }] }, { tools });
    assert.equal(b.valid, false, JSON.stringify(b.issues));
    assert.ok(of(b, "param_schema").length >= 1);
    assert.ok(of(b, "param_schema").every((i) => i.severity === "error" && i.tier === "decision_procedure" && i.action_id === "a"));
    const g = verify({ actions: [{ id: "a", type: "tool_call", tool: "t", parameters: good }] }, { tools });
    assert.deepEqual(of(g, "param_schema"), []);
    assert.equal(g.evidence.checks.find((c) => c.name === "param_schema")!.ran, true);
  });
}

test("param_schema: messages name the parameter; references are not judged; broken schemas warn; no schemas → not run", () => {
  const tools = [{ name: "t", parameters: { type: "object", required: ["n"], properties: { n: { type: "integer" }, s: { type: "string", pattern: "^x" } } } }];
  const r = verify({ actions: [{ id: "a", type: "tool_call", tool: "t", parameters: { n: "one" } }] }, { tools });
  assert.match(of(r, "param_schema")[0]!.message, /parameters\.n: .*integer/);
  const missing = verify({ actions: [{ id: "a", type: "tool_call", tool: "t", parameters: {} }] }, { tools });
  assert.match(of(missing, "param_schema")[0]!.message, /required property "n"/);
  // "$src.output" is a run-time value: an integer slot holding a reference is not a type error.
  const refs = verify(
    { actions: [{ id: "src", type: "tool_call", tool: "t", parameters: { n: 1 } }, { id: "b", type: "tool_call", tool: "t", parameters: { n: "$src.output", s: "x $src.output.y" } }] },
    { tools },
  );
  assert.deepEqual(of(refs, "param_schema"), []);
  const broken = verify({ actions: [{ id: "a", type: "tool_call", tool: "b" }] }, { tools: [{ name: "b", parameters: { $ref: "#/nowhere" } }] });
  assert.equal(of(broken, "param_schema")[0]!.severity, "warning");
  assert.match(of(broken, "param_schema")[0]!.message, /unusable/);
  const none = verify({ actions: [{ id: "a", type: "tool_call", tool: "send", parameters: { anything: 1 } }] }, { tools: TOOLS });
  assert.equal(none.evidence.checks.find((c) => c.name === "param_schema")!.ran, false);
});

test("preconditions: impossible ones are errors; ones an earlier action or the initial state establishes are not", () => {
  const pre = [{ key: "balance", operator: "gte", value: 10 }];
  const bad = run([{ id: "pay", type: "tool_call", tool: "send", preconditions: pre }], { initialState: { balance: 5 } });
  assert.equal(bad.valid, false);
  assert.match(of(bad, "preconditions")[0]!.message, /balance gte 10 cannot hold: "balance" is 5/);
  const absent = run([{ id: "pay", type: "tool_call", tool: "send", preconditions: [{ key: "token", operator: "exists" }] }]);
  assert.match(of(absent, "preconditions")[0]!.message, /not in the initial state and no action writes it/);
  assert.equal(run([{ id: "pay", type: "tool_call", tool: "send", preconditions: pre }], { initialState: { balance: 50 } }).valid, true);
  const established = run([
    { id: "dep", type: "state_write", parameters: { key: "balance", value: 20 } },
    { id: "pay", type: "tool_call", tool: "send", preconditions: pre },
  ]);
  assert.deepEqual(of(established, "preconditions"), []);
  assert.deepEqual(established.execution_levels, [["dep"], ["pay"]]);
  // An assertion is a condition too.
  const assertion = run([{ id: "chk", type: "assertion", parameters: { key: "mode", value: "live" } }], { initialState: { mode: "test" } });
  assert.match(of(assertion, "preconditions")[0]!.message, /mode eq "live" cannot hold/);
});

test("preconditions on values known only at run time are assumed, and the evidence says so", () => {
  const res = run([
    { id: "get", type: "tool_call", tool: "search", parameters: { q: "x" }, expected_effects: { hits: "$get.output" } },
    { id: "use", type: "tool_call", tool: "send", preconditions: [{ key: "hits", operator: "gt", value: 0 }, { key: "hits", operator: "exists" }] },
  ]);
  assert.equal(res.valid, true);
  assert.equal(res.simulated_state["hits"], "$get.output");
  const pre = res.evidence.checks.find((c) => c.name === "preconditions")!;
  assert.ok(pre.cannot_verify.some((s) => /1 condition\(s\) on values known only at run time.*use/.test(s)));
  assert.ok(res.evidence.assumptions.some((s) => s.includes("hits")));
});

test("state_dependencies never written: error; in the initial state or written earlier: fine; written only later: warning", () => {
  const bad = run([{ id: "a", type: "tool_call", tool: "send", state_dependencies: ["ghost"] }]);
  assert.equal(bad.valid, false);
  assert.match(of(bad, "state_dependencies")[0]!.message, /"ghost" is never written and not in the initial state/);
  assert.deepEqual(of(run([{ id: "a", type: "tool_call", tool: "send", state_dependencies: ["cfg"] }], { initialState: { cfg: 1 } }), "state_dependencies"), []);
  const written = run([
    { id: "w", type: "tool_call", tool: "send", expected_effects: { cfg: 1 } },
    { id: "a", type: "tool_call", tool: "send", state_dependencies: ["cfg"] },
  ]);
  assert.deepEqual(of(written, "state_dependencies"), []);
  const later = run([
    { id: "a", type: "tool_call", tool: "send", state_dependencies: ["cfg"] },
    { id: "w", type: "tool_call", tool: "send", expected_effects: { cfg: 1 } },
  ]);
  assert.equal(of(later, "state_dependencies")[0]!.severity, "warning");
  assert.equal(later.valid, true);
});

test("write conflicts are warnings listed in conflicts as [a, b, key]; ordered writers do not conflict", () => {
  const res = run([
    { id: "a", type: "tool_call", tool: "send", expected_effects: { status: "x" } },
    { id: "b", type: "tool_call", tool: "send", expected_effects: { status: "y" } },
  ]);
  assert.equal(res.valid, true);
  assert.deepEqual(res.conflicts, [["a", "b", "status"]]);
  assert.equal(of(res, "write_conflicts")[0]!.severity, "warning");
  assert.equal(of(res, "write_conflicts")[0]!.tier, "decision_procedure");
  const ordered = run([
    { id: "a", type: "tool_call", tool: "send", expected_effects: { status: "x" } },
    { id: "b", type: "tool_call", tool: "send", expected_effects: { status: "y" }, dependencies: ["a"] },
  ]);
  assert.deepEqual(ordered.conflicts, []);
  assert.deepEqual(of(ordered, "write_conflicts"), []);
  assert.equal(ordered.simulated_state["status"], "y");
});

test("repeated identical calls: heuristic warning at 3; not at 2 or with different parameters", () => {
  const call = (id: string, q = "same") => ({ id, type: "tool_call", tool: "search", parameters: { q } });
  const res = run([call("a"), call("b"), call("c")]);
  assert.equal(res.valid, true);
  assert.equal(of(res, "repeated_calls").length, 1);
  assert.equal(of(res, "repeated_calls")[0]!.tier, "heuristic");
  assert.equal(of(res, "repeated_calls")[0]!.severity, "warning");
  assert.match(of(res, "repeated_calls")[0]!.message, /3 times with identical parameters \(a, b, c\)/);
  assert.deepEqual(of(run([call("a"), call("b")]), "repeated_calls"), []);
  assert.deepEqual(of(run([call("a", "1"), call("b", "2"), call("c", "3")]), "repeated_calls"), []);
  assert.equal(of(run([call("a"), call("b")], { repeatedCallThreshold: 2 }), "repeated_calls").length, 1);
});

test("cycles are errors naming the cycle; acyclic graphs are fine", () => {
  const res = run([
    { id: "a", type: "tool_call", tool: "send", dependencies: ["b"] },
    { id: "b", type: "tool_call", tool: "send", dependencies: ["a"] },
    { id: "c", type: "tool_call", tool: "send" },
  ]);
  assert.equal(res.valid, false);
  assert.match(of(res, "cycles")[0]!.message, /dependency cycle: a -> b -> a/);
  assert.deepEqual(res.execution_levels, [["c"]]);
  assert.deepEqual(of(run([{ id: "a", type: "tool_call", tool: "send" }, { id: "b", type: "tool_call", tool: "send", dependencies: ["a"] }]), "cycles"), []);
});

test("duplicate ids and unknown dependencies are errors; a missing id is info", () => {
  const dup = run([{ id: "a", type: "tool_call", tool: "send" }, { id: "a", type: "tool_call", tool: "send" }]);
  assert.equal(dup.valid, false);
  assert.match(of(dup, "action_ids")[0]!.message, /duplicate action id "a" \(first declared at index 0\)/);
  const unknown = run([{ id: "a", type: "tool_call", tool: "send", dependencies: ["ghost"] }]);
  assert.equal(unknown.valid, false);
  assert.match(of(unknown, "dependencies")[0]!.message, /unknown action "ghost"/);
  const noId = run([{ type: "tool_call", tool: "send" }]);
  assert.equal(noId.valid, true);
  assert.equal(of(noId, "action_ids")[0]!.severity, "info");
  assert.deepEqual(noId.execution_levels, [["actions[0]"]]);
  assert.deepEqual(of(run([{ id: "a", type: "tool_call", tool: "send" }, { id: "b", type: "tool_call", tool: "send", dependencies: ["a"] }]), "dependencies"), []);
});

test("max_actions: more actions than allowed is a proposal-wide error", () => {
  const actions = [1, 2, 3].map((i) => ({ id: `a${i}`, type: "tool_call", tool: "search", parameters: { q: `${i}` } }));
  const res = run(actions, { maxActions: 2 });
  assert.equal(res.valid, false);
  assert.deepEqual(of(res, "max_actions").map((i) => [i.action_id, i.severity]), [[null, "error"]]);
  assert.deepEqual(of(run(actions, { maxActions: 3 }), "max_actions"), []);
});

test("references: unknown, later-declared, self and non-preceding effect references are reported; preceding ones are not", () => {
  const unknown = run([{ id: "a", type: "tool_call", tool: "send", parameters: { v: "$ghost.output" } }]);
  assert.equal(unknown.valid, false);
  assert.match(of(unknown, "references")[0]!.message, /unknown action "\$ghost.output"/);
  const later = run([{ id: "a", type: "tool_call", tool: "send", parameters: { v: "$b.output" } }, { id: "b", type: "tool_call", tool: "search", parameters: { q: "x" } }]);
  assert.equal(later.valid, true);
  assert.equal(of(later, "references")[0]!.severity, "warning");
  assert.deepEqual(later.execution_levels, [["b"], ["a"]]);
  const self = run([{ id: "a", type: "tool_call", tool: "send", parameters: { v: "$a.output" } }]);
  assert.equal(self.valid, false);
  assert.equal(of(self, "references").length, 1);
  assert.deepEqual(of(self, "cycles"), [], "the self-reference is reported once");
  const effect = run([{ id: "a", type: "tool_call", tool: "send", expected_effects: { v: "$b.output" } }, { id: "b", type: "tool_call", tool: "send" }]);
  assert.equal(effect.valid, false);
  assert.match(of(effect, "references")[0]!.message, /not guaranteed to have run first/);
  const ok = run([
    { id: "a", type: "tool_call", tool: "search", parameters: { q: "x" } },
    { id: "b", type: "tool_call", tool: "send", parameters: { v: "$a.output" }, expected_effects: { v: "$a.output.x", own: "$b.output" } },
  ]);
  assert.deepEqual(of(ok, "references"), []);
  assert.equal(ok.valid, true);
});

test("policies: a pluggable check runs as a check of its own, on the simulated state", () => {
  const seen: Array<[string, unknown]> = [];
  const policyCheck: VerifyOptions["policyCheck"] = (a, { state }) => {
    seen.push([a.id, state.get("armed")]);
    const out = [];
    if (a.tool === "send") out.push({ name: "deny_tool:send", reason: "sending is disabled" });
    if (a.tool === "search" && state.get("armed") !== true) out.push({ name: "require_state:armed", reason: "armed must be true" });
    return out;
  };
  const res = run(
    [
      { id: "s1", type: "tool_call", tool: "search", parameters: { q: "x" } },
      { id: "arm", type: "state_write", parameters: { key: "armed", value: true }, dependencies: ["s1"] },
      { id: "s2", type: "tool_call", tool: "search", parameters: { q: "y" }, dependencies: ["arm"] },
      { id: "m", type: "tool_call", tool: "send" },
    ],
    { policyCheck },
  );
  assert.equal(res.valid, false);
  assert.deepEqual(of(res, "policies").map((i) => [i.action_id, i.message]), [["s1", "policy require_state:armed: armed must be true"], ["m", "policy deny_tool:send: sending is disabled"]]);
  assert.deepEqual(seen.find(([id]) => id === "s2"), ["s2", true]);
  assert.equal(res.evidence.checks.find((c) => c.name === "policies")!.ran, true);
  assert.equal(run([{ id: "q", type: "tool_call", tool: "search", parameters: { q: "x" } }], { policyCheck: () => [] }).valid, true);
});

test("capabilities: denied tools, tools outside the allow-list, state keys and max_actions", () => {
  const actions = [
    { id: "a", type: "tool_call", tool: "send" },
    { id: "b", type: "tool_call", tool: "search", parameters: { q: "x" }, expected_effects: { secret: 1 } },
  ];
  const denied = run(actions, { capabilities: { denied_tools: new Set(["send"]) } });
  assert.deepEqual(of(denied, "capabilities").map((i) => i.action_id), ["a"]);
  const allow = run(actions, { capabilities: { allowedTools: ["send"], allowed_state_keys: ["public"], max_actions: 1 } });
  assert.deepEqual(of(allow, "capabilities").map((i) => i.action_id), [null, "b", "b"]);
  assert.ok(of(allow, "capabilities").some((i) => /state key "secret"/.test(i.message)));
  assert.equal(run(actions, { capabilities: { allowed_tools: ["send", "search"] } }).valid, true);
});

test("effects declared on non-tool actions are flagged (the engine does not apply them)", () => {
  const res = run([{ id: "r", type: "state_read", parameters: { key: "x" }, expected_effects: { y: 1 } }], { initialState: { x: 1 } });
  assert.equal(of(res, "effects")[0]!.severity, "warning");
  assert.equal(res.simulated_state["y"], undefined);
  const selfDescribing = run([{ id: "w", type: "state_write", parameters: { key: "x", value: 2 }, expected_effects: { x: 2 } }]);
  assert.deepEqual(of(selfDescribing, "effects"), []);
  assert.equal(selfDescribing.simulated_state["x"], 2);
});
