import { test } from "node:test";
import assert from "node:assert/strict";
import { CarError, ManualClock, Runtime, SeededRandom, ValidationError } from "../../src/index.ts";

function runtime() {
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(3) });
  const calls: string[] = [];
  for (const name of ["shell", "http", "read"]) rt.registerTool({ name }, (p) => void calls.push(`${name}:${JSON.stringify(p)}`));
  return { rt, calls };
}

const call = (id: string, tool: string, parameters: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ id, type: "tool_call" as const, tool, parameters, failure_behavior: "skip" as const, ...extra });

test("deny_tool rejects that tool and allows others; counted in actions_rejected with a policy_violation event", async () => {
  const { rt, calls } = runtime();
  rt.registerPolicy({ name: "no-shell", rule: "deny_tool", target: "shell" });
  const res = await rt.executeProposal({ actions: [call("a", "shell", { cmd: "ls" }), call("b", "read")] });
  assert.deepEqual(res.results.map((r) => r.status), ["rejected", "succeeded"]);
  assert.match(res.results[0]!.error!, /^rejected: no-shell: tool shell is denied/);
  assert.equal(res.cost.actions_rejected, 1);
  assert.equal(res.cost.actions_executed, 1);
  assert.deepEqual(calls, ["read:{}"]);
  const v = rt.events.query({ kinds: ["policy_violation"] });
  assert.equal(v.length, 1);
  assert.deepEqual(v[0]!.data, { policy_name: "no-shell", reason: "tool shell is denied by policy" });
});

test("a rejected action with failure_behavior abort aborts the proposal and rolls back", async () => {
  const { rt } = runtime();
  rt.registerPolicy({ name: "no-shell", rule: "deny_tool", target: "shell" });
  const res = await rt.executeProposal({
    actions: [
      { id: "w", type: "state_write", parameters: { key: "k", value: 1 } },
      { id: "s", type: "tool_call", tool: "shell", dependencies: ["w"] },
      { id: "r", type: "tool_call", tool: "read", dependencies: ["s"] },
    ],
  });
  assert.deepEqual(res.results.map((r) => r.status), ["succeeded", "rejected", "skipped"]);
  assert.equal(res.results[0]!.rolled_back, true);
  assert.equal(rt.state.exists("k"), false);
  assert.deepEqual([res.cost.actions_rejected, res.cost.actions_skipped, res.cost.actions_executed], [1, 1, 1]);
});

test("deny_tool_param: substring of the stringified parameter denies; other values and absent params pass; value never echoed", async () => {
  const { rt } = runtime();
  rt.registerPolicy({ name: "no-secrets", rule: "deny_tool_param", target: "http", key: "url", pattern: "secret.example" });
  rt.registerPolicy({ name: "no-9", rule: "deny_tool_param", key: "n", pattern: "9" });
  const res = await rt.executeProposal({
    actions: [
      call("a", "http", { url: "https://secret.example/x" }),
      call("b", "http", { url: "https://public.example/" }),
      call("c", "http", {}),
      call("d", "read", { n: 1999 }),
      call("e", "read", { n: { deep: [9] } }),
      call("f", "read", { n: 1 }),
    ],
  });
  assert.deepEqual(res.results.map((r) => r.status), ["rejected", "succeeded", "succeeded", "rejected", "rejected", "succeeded"]);
  const log = await rt.events.toJSONL();
  const violations = rt.events.query({ kinds: ["policy_violation", "action_rejected"] });
  for (const e of violations) assert.ok(!JSON.stringify(e.data).includes("secret.example"), "matched value must not be echoed");
  assert.ok(!/secret\.example\/x/.test(log.split("\n").filter((l) => l.includes("policy_violation")).join("")));
  assert.equal(res.cost.actions_rejected, 3);
});

test("require_state blocks every action until the state holds the value", async () => {
  const { rt } = runtime();
  rt.registerPolicy({ name: "armed", rule: "require_state", key: "mode", value: "armed" });
  const res1 = await rt.executeProposal({ actions: [call("a", "read"), { id: "w", type: "state_write", parameters: { key: "x", value: 1 }, failure_behavior: "skip" }] });
  assert.deepEqual(res1.results.map((r) => r.status), ["rejected", "rejected"]);
  rt.state.set("mode", "armed");
  const res2 = await rt.executeProposal({ actions: [call("a", "read")] });
  assert.equal(res2.results[0]!.status, "succeeded");
  rt.registerPolicy({ name: "json", rule: "require_state", key: "n", value_json: "{\"a\":[1,2]}" });
  rt.state.set("n", { a: [1, 2] });
  assert.equal((await rt.executeProposal({ actions: [call("a", "read")] })).results[0]!.status, "succeeded");
});

test("all violations of all policies are collected on one action", async () => {
  const { rt } = runtime();
  rt.registerPolicy({ name: "p1", rule: "deny_tool", target: "http" });
  rt.registerPolicy({ name: "p2", rule: "deny_tool_param", target: "http", key: "url", pattern: "x" });
  rt.registerPolicy({ name: "p3", rule: "require_state", key: "ok", value: true });
  const res = await rt.executeProposal({ actions: [call("a", "http", { url: "xx" })] });
  assert.equal(res.results[0]!.status, "rejected");
  const names = rt.events.query({ kinds: ["policy_violation"] }).reverse().map((e) => e.data["policy_name"]);
  assert.deepEqual(names, ["p1", "p2", "p3"]);
  assert.match(res.results[0]!.error!, /p1: .*; p2: .*; p3: /);
});

test("list in registration order; unregister removes every policy of that name and returns the count", async () => {
  const { rt } = runtime();
  rt.registerPolicy({ name: "a", rule: "deny_tool", target: "shell" });
  rt.registerPolicy({ name: "b", rule: "deny_tool", target: "http" });
  rt.registerPolicy({ name: "a", rule: "deny_tool", target: "read" });
  assert.deepEqual(rt.listPolicies().map((p) => p.name), ["a", "b", "a"]);
  assert.equal(rt.unregisterPolicy("a"), 2);
  assert.equal(rt.unregisterPolicy("a"), 0);
  assert.deepEqual(rt.listPolicies(), [{ name: "b", description: "deny tool http" }]);
  const res = await rt.executeProposal({ actions: [call("x", "shell"), call("y", "read"), call("z", "http")] });
  assert.deepEqual(res.results.map((r) => r.status), ["succeeded", "succeeded", "rejected"]);
});

test("policy scopes: scoped policies apply only to proposals submitted with the scope; close drops them", async () => {
  const { rt } = runtime();
  const scope = rt.policies.openScope();
  assert.deepEqual(rt.policies.register({ name: "no-read", rule: "deny_tool", target: "read" }, scope), { registered: "no-read", scope: { session_id: scope } });
  rt.policies.register({ name: "no-http", rule: "deny_tool", target: "http", session_id: scope });
  assert.deepEqual(rt.listPolicies(), []);
  assert.deepEqual(rt.listPolicies(scope).map((p) => p.name), ["no-read", "no-http"]);
  const p = { actions: [call("a", "read")] };
  assert.equal((await rt.executeProposal(p)).results[0]!.status, "succeeded");
  const scoped = await rt.executeProposal(p, { policyScope: scope });
  assert.equal(scoped.results[0]!.status, "rejected");
  assert.equal(rt.events.query({ kinds: ["policy_violation"] })[0]!.policy_session_id, scope);
  assert.equal(rt.policies.closeScope(scope), true);
  assert.equal(rt.policies.closeScope(scope), false);
  await assert.rejects(rt.executeProposal(p, { policyScope: scope }), (e: unknown) => e instanceof CarError && e.code === "not_found");
  assert.throws(() => rt.policies.register({ name: "x", rule: "deny_tool", target: "read" }, scope), (e: unknown) => e instanceof CarError && e.code === "not_found");
});

test("malformed definitions are rejected with the field named", () => {
  const { rt } = runtime();
  assert.throws(() => rt.registerPolicy({ name: "x", rule: "deny_tool" }), (e: unknown) => e instanceof ValidationError && /target/.test(e.message));
  assert.throws(() => rt.registerPolicy({ name: "x", rule: "deny_tool_callback", target: "a" }), ValidationError);
  assert.throws(() => rt.registerPolicy({ name: "x", rule: "require_state", key: "k", value_json: "{nope" }), (e: unknown) => e instanceof ValidationError && /value_json/.test(e.message));
  assert.deepEqual(rt.listPolicies(), []);
});
