// Governance wiring in-process: tenant key mapping, daemon policy files (read, fail closed), capabilities seen by verify & co.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readPolicySources } from "../../adapters/policies/fs.ts";
import { createMemoryStorage } from "../../adapters/storage/memory.ts";
import { Runtime } from "../../src/engine/runtime.ts";
import { ActionProposalSchema } from "../../src/ir/proposal.ts";
import { createApp } from "../../src/server/app.ts";
import { daemonServicesOver, featureMethods, featureSessionSetup } from "../../src/server/features.ts";
import { applyDaemonPolicies, daemonPolicyNames, governanceMethods } from "../../src/server/governance/index.ts";
import type { Session } from "../../src/server/context.ts";
import { refuseTenantKeys, scopeProposalToTenant, unscopeResult } from "../../src/server/methods/tenant-scope.ts";

/** One POST /rpc request against an in-process app (auth off); returns the envelope. */
async function rpc(app: ReturnType<typeof createApp>, method: string, params: unknown): Promise<{ result?: unknown; error?: { code: number; message: string; data?: unknown } }> {
  const res = await app.fetch(new Request("http://x/rpc", { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) }));
  return (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
}

test("tenant scope rewrites every state key a proposal names, and only those", () => {
  const p = ActionProposalSchema.parse({
    actions: [
      { id: "w", type: "state_write", parameters: { key: "k", value: "$t.output" } },
      { id: "r", type: "state_read", parameters: { key: "$w.output" } },
      { id: "a", type: "assertion", parameters: { key: "k", operator: "exists" } },
      {
        id: "t", type: "tool_call", tool: "x", parameters: { key: "not-a-state-key" },
        preconditions: [{ key: "p", operator: "exists" }], expected_effects: { e: 1 }, state_dependencies: ["d"],
        read_set: ["rs"], write_set: ["ws"], assumptions: [{ key: "as" }],
      },
    ],
  });
  const s = scopeProposalToTenant(p, "acme");
  const [w, r, a, t] = s.actions;
  assert.deepEqual([w!.parameters["key"], w!.parameters["value"], r!.parameters["key"], a!.parameters["key"]], ["tenant:acme:k", "$t.output", "tenant:acme:$w.output", "tenant:acme:k"]);
  assert.deepEqual(t!.parameters, { key: "not-a-state-key" });
  assert.deepEqual([t!.preconditions[0]!.key, Object.keys(t!.expected_effects), t!.state_dependencies, t!.read_set, t!.write_set, t!.assumptions[0]!.key], ["tenant:acme:p", ["tenant:acme:e"], ["tenant:acme:d"], ["tenant:acme:rs"], ["tenant:acme:ws"], "tenant:acme:as"]);
  assert.equal(p.actions[0]!.parameters["key"], "k", "the input is not mutated");
  assert.doesNotThrow(() => refuseTenantKeys(p));
  assert.throws(() => refuseTenantKeys(s), /tenant-scoped/);
  const result = { proposal_id: "x", cost: { tool_calls: 0, actions_executed: 1, actions_rejected: 0, actions_skipped: 0, total_duration_ms: 0, retries: 0 }, results: [{ action_id: "w", status: "succeeded" as const, output: 1, error: null, state_changes: { "tenant:acme:k": 1, other: 2 }, duration_ms: 0, timestamp: "" }] };
  assert.deepEqual(unscopeResult(result, "acme").results[0]!.state_changes, { k: 1, other: 2 });
});

test("readPolicySources: files and sorted directories, optional paths, every file parsed before use", async () => {
  const root = mkdtempSync(join(tmpdir(), "car-policies-"));
  try {
    const dir = join(root, "d");
    mkdirSync(dir);
    writeFileSync(join(dir, "b.toml"), 'deny_tool = ["b"]\n');
    writeFileSync(join(dir, "a.json"), '{"deny_tool": ["a"]}');
    writeFileSync(join(dir, "notes.txt"), "ignored");
    writeFileSync(join(root, "one.toml"), 'deny_keyword = ["x"]\n');
    const got = await readPolicySources([{ path: join(root, "absent"), optional: true }, dir, join(root, "one.toml")]);
    assert.deepEqual(got.map((g) => g.source), [join(dir, "a.json"), join(dir, "b.toml"), join(root, "one.toml")]);
    await assert.rejects(readPolicySources([join(root, "absent")]), /cannot read policy path/);
    writeFileSync(join(dir, "c.toml"), "[[trace_rule]]\nx = 1\n");
    await assert.rejects(readPolicySources([dir]), (e: Error) => e.message.includes(`${join(dir, "c.toml")}:1`));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("daemon policies: loaded per session under file:<source>; a text that fails to load makes the session reject every proposal", async () => {
  const session = (rt: Runtime) => ({ runtime: rt, data: new Map<string, unknown>() }) as unknown as Session;
  const ok = session(new Runtime());
  applyDaemonPolicies(ok, [{ source: "/etc/car/base.toml", text: 'deny_tool = ["nuke"]\n' }]);
  assert.deepEqual([...daemonPolicyNames(ok)], ["file:/etc/car/base.toml"]);
  ok.runtime.registerTool({ name: "nuke" }, () => "boom");
  assert.equal((await ok.runtime.executeProposal({ actions: [{ id: "n", type: "tool_call", tool: "nuke" }] })).results[0]!.status, "rejected");

  const broken = session(new Runtime());
  applyDaemonPolicies(broken, [{ source: "x.toml", text: "not = [valid" }]);
  broken.runtime.registerTool({ name: "safe" }, () => "fine");
  const r = await broken.runtime.executeProposal({ actions: [{ id: "s", type: "tool_call", tool: "safe" }] });
  assert.deepEqual([r.results[0]!.status, r.cost.actions_rejected], ["rejected", 1]);
});

test("verify, simulate and plan.rank see the session's capability set; checkpoint.restore without storage needs the full checkpoint", async () => {
  const services = daemonServicesOver(createMemoryStorage(), { policyFiles: [{ source: "p.toml", text: 'deny_tool = ["nuke"]\n' }] });
  const app = createApp({
    settings: { auth: false },
    methods: featureMethods(services),
    hooks: { sessionOpened: featureSessionSetup(services) },
    createRuntime: () => {
      const rt = new Runtime();
      rt.setCapabilities({ denied_tools: ["shell"] });
      return rt;
    },
  });
  const shellThenWrite = { actions: [{ id: "s", type: "tool_call", tool: "shell", expected_effects: { ran: true } }, { id: "w", type: "state_write", parameters: { key: "k", value: 1 } }] };
  const v = (await rpc(app, "verify", { proposal: shellThenWrite, initial_state: {} })).result as { valid: boolean; issues: Array<{ check: string; action_id: string }> };
  assert.equal(v.valid, false);
  assert.deepEqual(v.issues.filter((i) => i.check === "capabilities").map((i) => i.action_id), ["s"]);
  assert.deepEqual((await rpc(app, "simulate", { proposal: shellThenWrite })).result, { k: 1 });
  const nuke = { actions: [{ id: "n", type: "tool_call", tool: "nuke" }] };
  const ranked = (await rpc(app, "plan.rank", { candidates: [shellThenWrite, nuke, { actions: [] }] })).result as Array<{ index: number; valid: boolean }>;
  assert.deepEqual(ranked.map((x) => [x.index, x.valid]), [[2, true], [0, false], [1, false]]);
  assert.equal((await rpc(app, "policy.list", {})).result !== undefined, true);
  const scope = await rpc(app, "verify", { proposal: nuke, session_id: "no-such-scope" });
  assert.equal(scope.error?.code, -32603);

  const bare = createApp({ settings: { auth: false }, methods: [governanceMethods()] });
  const saved = (await rpc(bare, "checkpoint.save", {})).result as { checkpoint_id: string };
  assert.equal((await rpc(bare, "checkpoint.restore", { checkpoint_id: saved.checkpoint_id })).error?.code, -32603);
  assert.deepEqual((await rpc(bare, "checkpoint.restore", saved)).result, { checkpoint_id: saved.checkpoint_id, keys: 0, missing_tools: [] });
});
