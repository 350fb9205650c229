import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, Runtime, SeededRandom, ValidationError, parsePolicyFile } from "../../src/index.ts";

function runtime(clock = new ManualClock()) {
  const rt = new Runtime({ clock, random: new SeededRandom(5) });
  for (const name of ["shell", "http", "db", "mail"]) rt.registerTool({ name }, () => "ok");
  return rt;
}
const call = (id: string, tool: string, parameters: Record<string, unknown> = {}) => ({ id, type: "tool_call" as const, tool, parameters, failure_behavior: "skip" as const });
const statuses = async (rt: Runtime, actions: ReturnType<typeof call>[]) => (await rt.executeProposal({ actions })).results.map((r) => r.status);
const violationNames = (rt: Runtime) => rt.events.query({ kinds: ["policy_violation"] }).reverse().map((e) => e.data["policy_name"]);

const TOML = `
# every rule kind
deny_tool = ["shell"]
deny_keyword = ["DROP TABLE"]

[[deny_tool_param]]
tool = "http"
param = "method"
equals = "DELETE"

[[deny_tool_param]]
tool = "http"
param = "url"
contains = "internal"

[[deny_tool_param]]
tool = "db"
param = "admin"

[[allow_tool_param]]
tool = "mail"
param = "to"
allow = ["a@x.org", "b@x.org"]

[[deny_tool_param_matching]]
tool = "db"
param = "table"
matches = "^sys_[a-z]+$"
`;

test("TOML file rules: each kind denies and allows, with stable violation names", async () => {
  const rt = runtime();
  assert.deepEqual(rt.policies.loadFile(TOML, { source: "10-rules.toml" }), { registered: "file:10-rules.toml", scope: "global" });
  assert.deepEqual(rt.listPolicies(), [{ name: "file:10-rules.toml", description: "1 deny_tool, 1 deny_keyword, 3 deny_tool_param, 1 allow_tool_param, 1 deny_tool_param_matching" }]);
  assert.deepEqual(await statuses(rt, [call("a", "shell")]), ["rejected"]);
  assert.deepEqual(await statuses(rt, [call("a", "http", { q: "select; DROP TABLE users" }), call("b", "http", { q: "drop table" })]), ["rejected", "succeeded"]);
  assert.deepEqual(await statuses(rt, [call("a", "http", { method: "DELETE" }), call("b", "http", { method: "GET" })]), ["rejected", "succeeded"]);
  assert.deepEqual(await statuses(rt, [call("a", "http", { url: "https://internal.corp" }), call("b", "http", { url: "https://example.org" })]), ["rejected", "succeeded"]);
  assert.deepEqual(await statuses(rt, [call("a", "db", { admin: false }), call("b", "db", {})]), ["rejected", "succeeded"]);
  assert.deepEqual(await statuses(rt, [call("a", "mail", { to: "a@x.org" }), call("b", "mail", { to: "evil@y.org" }), call("c", "mail", {})]), ["succeeded", "rejected", "rejected"]);
  assert.deepEqual(await statuses(rt, [call("a", "db", { table: "sys_users" }), call("b", "db", { table: "users" }), call("c", "db", { table: "sys_Users" })]), ["rejected", "succeeded", "succeeded"]);
  assert.deepEqual(violationNames(rt), [
    "deny_tool:shell",
    "deny_keyword:DROP TABLE",
    "deny_tool_param:http.method",
    "deny_tool_param:http.url",
    "deny_tool_param:db.admin",
    "allow_tool_param:mail.to",
    "allow_tool_param:mail.to",
    "deny_tool_param_matching:db.table",
  ]);
  for (const e of rt.events.query({ kinds: ["policy_violation", "action_rejected"] })) {
    const text = JSON.stringify(e.data);
    for (const secret of ["DELETE", "internal.corp", "evil@y.org", "sys_users"]) assert.ok(!text.includes(secret), `${secret} echoed in ${text}`);
  }
});

test("all violations on one action are collected across file rules", async () => {
  const rt = runtime();
  rt.policies.loadFile(TOML, { source: "r.toml" });
  assert.deepEqual(await statuses(rt, [call("a", "http", { method: "DELETE", url: "internal", q: "DROP TABLE" })]), ["rejected"]);
  assert.deepEqual(violationNames(rt), ["deny_keyword:DROP TABLE", "deny_tool_param:http.method", "deny_tool_param:http.url"]);
});

test("allow_tool_param fails closed with an empty allow list", async () => {
  const rt = runtime();
  rt.policies.loadFile(`[[allow_tool_param]]\ntool = "mail"\nparam = "to"\nallow = []\n`, { source: "a.toml" });
  assert.deepEqual(await statuses(rt, [call("a", "mail", { to: "" }), call("b", "http")]), ["rejected", "succeeded"]);
});

test("a bad regex denies its tool (even without the parameter) instead of failing open", async () => {
  const rt = runtime();
  rt.policies.loadFile(`[[deny_tool_param_matching]]\ntool = "db"\nparam = "table"\nmatches = "(unclosed"\n`, { source: "bad-re.toml" });
  assert.deepEqual(await statuses(rt, [call("a", "db", { table: "x" }), call("b", "db"), call("c", "http")]), ["rejected", "rejected", "succeeded"]);
  assert.deepEqual(violationNames(rt), ["deny_tool_param_matching:db.table", "deny_tool_param_matching:db.table"]);
});

test("JSON policy files work the same", async () => {
  const rt = runtime();
  rt.policies.loadFile(JSON.stringify({ deny_tool: ["mail"], deny_tool_param: [{ tool: "http", param: "method", equals: "PUT" }] }), { source: "p.json" });
  assert.deepEqual(await statuses(rt, [call("a", "mail"), call("b", "http", { method: "PUT" }), call("c", "http", { method: "GET" })]), ["rejected", "rejected", "succeeded"]);
});

test("rate_limit_tool: sliding window; the (max_calls+1)-th call in the window is denied and consumes nothing", async () => {
  const clock = new ManualClock();
  const rt = runtime(clock);
  rt.policies.loadFile(`[[rate_limit_tool]]\ntool = "http"\nmax_calls = 2\ninterval_secs = 10\n`, { source: "rl.toml" });
  assert.deepEqual(await statuses(rt, [call("a", "http"), call("b", "http"), call("c", "http"), call("d", "db")]), ["succeeded", "succeeded", "rejected", "succeeded"]);
  assert.deepEqual(violationNames(rt), ["rate_limit_tool:http"]);
  clock.advance(5_000);
  assert.deepEqual(await statuses(rt, [call("a", "http")]), ["rejected"]);
  clock.advance(5_001); // the first two calls (t=0) left the window; the denied ones never entered it
  assert.deepEqual(await statuses(rt, [call("a", "http"), call("b", "http"), call("c", "http")]), ["succeeded", "succeeded", "rejected"]);
});

test("rate_limit_tool budget is consumed at admission even when another rule denies the call", async () => {
  const rt = runtime();
  rt.policies.loadFile(`deny_keyword = ["bad"]\n[[rate_limit_tool]]\ntool = "http"\nmax_calls = 1\ninterval_secs = 60\n`, { source: "rl.toml" });
  assert.deepEqual(await statuses(rt, [call("a", "http", { q: "bad" })]), ["rejected"]);
  assert.deepEqual(await statuses(rt, [call("b", "http", { q: "good" })]), ["rejected"]);
  assert.deepEqual(violationNames(rt), ["deny_keyword:bad", "rate_limit_tool:http"]);
});

test("rate_limit_tool with max_calls = 0 denies every call", async () => {
  const rt = runtime();
  rt.policies.loadFile(`[[rate_limit_tool]]\ntool = "http"\nmax_calls = 0\ninterval_secs = 1\n`, { source: "zero.toml" });
  assert.deepEqual(await statuses(rt, [call("a", "http")]), ["rejected"]);
});

test("loading a source again replaces it; unregister removes it", async () => {
  const rt = runtime();
  rt.policies.loadFile(`deny_tool = ["http"]`, { source: "x.toml" });
  rt.policies.loadFile(`deny_tool = ["mail"]`, { source: "x.toml" });
  assert.deepEqual(await statuses(rt, [call("a", "http"), call("b", "mail")]), ["succeeded", "rejected"]);
  assert.equal(rt.unregisterPolicy("file:x.toml"), 1);
  assert.deepEqual(await statuses(rt, [call("b", "mail")]), ["succeeded"]);
});

const malformed: Array<[string, string, string, RegExp]> = [
  ["syntax", "deny_tool = [\"a\"\n\n[[x]]\n", "bad.toml", /bad\.toml:\d+/],
  ["unknown key", `deny_tool = ["a"]\n\n[[deny_tool_parm]]\ntool = "a"\n`, "typo.toml", /typo\.toml:3: deny_tool_parm/],
  ["wrong type", `deny_tool = ["a"]\n[[rate_limit_tool]]\ntool = "a"\nmax_calls = "ten"\ninterval_secs = 1\n`, "type.toml", /type\.toml:4: rate_limit_tool\[0\]\.max_calls/],
  ["second entry missing field", `[[deny_tool_param]]\ntool = "a"\nparam = "b"\n\n[[deny_tool_param]]\ntool = "a"\n`, "miss.toml", /miss\.toml:5: deny_tool_param\[1\]\.param/],
  ["equals and contains", `[[deny_tool_param]]\ntool = "a"\nparam = "b"\nequals = "x"\ncontains = "y"\n`, "both.toml", /both\.toml:1/],
  ["trace_rule", `[[trace_rule]]\nname = "t"\n`, "trace.toml", /trace\.toml:1: trace_rule.*not enforceable/],
  ["json syntax", `{"deny_tool": ["a",]}`, "p.json", /p\.json:1/],
  ["json schema", `{\n  "deny_tool": ["a"],\n  "deny_keyword": [1]\n}`, "q.json", /q\.json:3: deny_keyword\[0\]/],
];
for (const [what, text, source, re] of malformed) {
  test(`a malformed policy file is an error at load naming file and line: ${what}`, () => {
    const rt = runtime();
    assert.throws(() => rt.policies.loadFile(text, { source }), (e: unknown) => e instanceof ValidationError && re.test(e.message));
    assert.deepEqual(rt.listPolicies(), []);
  });
}

test("parsePolicyFile returns the normalized rules", () => {
  const r = parsePolicyFile(`deny_tool = ["a"]`, { source: "x.toml" });
  assert.deepEqual(r, { deny_tool: ["a"], deny_keyword: [], deny_tool_param: [], allow_tool_param: [], deny_tool_param_matching: [], rate_limit_tool: [] });
});
