// --policy FILE|DIR and $CAR_HOME/policies: loaded at start into every session; a malformed file stops the daemon (exit 2).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runRefused, startDaemon, type RuntimeName } from "../harness.ts";
import { expectError, expectResult } from "../helpers.ts";
import { RawSocket } from "../raw-socket.ts";

type Result = { results: Array<{ action_id: string; status: string; error: string | null }> };

const GOOD = `# denies nuke outright, and sudo in shell commands
deny_tool = ["nuke"]

[[deny_tool_param]]
tool = "shell"
param = "command"
contains = "sudo"
`;

const MALFORMED = `deny_tool = ["nuke"]

[[deny_tool_param]]
tool = "shell"
prm = "command"
`;

/** Submits a proposal whose tools are answered "ok"; returns the statuses and how many calls reached the client. */
async function run(s: RawSocket, id: number, actions: unknown[]): Promise<{ statuses: string[]; calls: number }> {
  s.text({ jsonrpc: "2.0", id, method: "proposal.submit", params: { proposal: { actions } } });
  let calls = 0;
  for (;;) {
    const { msg } = await s.next();
    if (msg["method"] === "tools.execute") {
      calls++;
      s.text({ jsonrpc: "2.0", id: msg["id"], result: "ok" });
    } else if (msg["id"] === id) return { statuses: (expectResult(msg, id) as Result).results.map((r) => r.status), calls };
  }
}

export function policyFileCases(rt: RuntimeName): void {
  test("--policy FILE and DIR (and $CAR_HOME/policies) apply to every session, cannot be unregistered; checkpoints survive a restart", async () => {
    const root = mkdtempSync(join(tmpdir(), `car-policy-${rt}-`));
    const carHome = join(root, "home");
    const file = join(root, "base.toml");
    const dir = join(root, "policies.d");
    mkdirSync(join(carHome, "policies"), { recursive: true });
    mkdirSync(dir);
    writeFileSync(file, GOOD);
    writeFileSync(join(dir, "20-json.json"), JSON.stringify({ deny_keyword: ["DROP TABLE"] }));
    writeFileSync(join(dir, "README.md"), "not a policy file");
    writeFileSync(join(carHome, "policies", "00-home.toml"), 'deny_tool = ["format_disk"]\n');
    const tools = [{ name: "shell" }, { name: "nuke" }, { name: "db" }, { name: "format_disk" }];
    let checkpointId = "";
    const first = await startDaemon(rt, ["--no-auth", "--car-home", carHome, "--policy", file]);
    try {
      for (let session = 0; session < 2; session++) {
        const s = await RawSocket.open(first.url);
        expectResult(await s.call(1, "tools.register", tools), 1);
        const list = expectResult(await s.call(2, "policy.list", {}), 2) as { policies: Array<{ name: string }> };
        assert.deepEqual(list.policies.map((p) => p.name), [`file:${join(carHome, "policies", "00-home.toml")}`, `file:${file}`]);
        const r = await run(s, 3, [{ id: "a", type: "tool_call", tool: "shell", parameters: { command: "sudo ls" }, failure_behavior: "skip" }, { id: "b", type: "tool_call", tool: "nuke", failure_behavior: "skip" }, { id: "c", type: "tool_call", tool: "format_disk", failure_behavior: "skip" }, { id: "d", type: "tool_call", tool: "shell", parameters: { command: "ls" } }]);
        assert.deepEqual(r, { statuses: ["rejected", "rejected", "rejected", "succeeded"], calls: 1 });
        const v = (expectResult(await s.call(4, "events.query", { kinds: ["policy_violation"] }), 4) as { events: Array<{ data: { policy_name: string } }> }).events;
        assert.deepEqual(v.map((e) => e.data.policy_name).sort(), ["deny_tool:format_disk", "deny_tool:nuke", "deny_tool_param:shell.command"]);
        const refused = expectError(await s.call(5, "policy.unregister", { name: `file:${file}` }), -32603, 5);
        assert.match(refused.message, /loaded by the daemon/);
        const verified = expectResult(await s.call(6, "verify", { proposal: { actions: [{ id: "n", type: "tool_call", tool: "nuke" }] } }), 6) as { valid: boolean };
        assert.equal(verified.valid, false);
        if (session === 1) {
          expectResult(await s.call(7, "state.set", { key: "kept", value: [1, 2] }), 7);
          checkpointId = (expectResult(await s.call(8, "checkpoint.save", {}), 8) as { checkpoint_id: string }).checkpoint_id;
        }
        s.close();
      }
      // POST /rpc sessions get them too.
      const http = await fetch(`${first.http}/rpc`, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "policy.list", params: {} }) });
      assert.equal(((await http.json()) as { result: { policies: unknown[] } }).result.policies.length, 2);
      assert.equal(await first.stop("SIGTERM"), 0);

      const second = await startDaemon(rt, ["--no-auth", "--car-home", carHome, "--policy", dir]);
      try {
        const s = await RawSocket.open(second.url);
        expectResult(await s.call(1, "tools.register", tools), 1);
        const r = await run(s, 2, [{ id: "a", type: "tool_call", tool: "db", parameters: { sql: "DROP TABLE users" }, failure_behavior: "skip" }, { id: "b", type: "tool_call", tool: "nuke" }, { id: "c", type: "tool_call", tool: "format_disk", failure_behavior: "skip" }]);
        // nuke came from the first daemon's --policy file, which this one was not given.
        assert.deepEqual(r, { statuses: ["rejected", "succeeded", "rejected"], calls: 1 });
        assert.deepEqual(expectResult(await s.call(3, "checkpoint.restore", { checkpoint_id: checkpointId }), 3), { checkpoint_id: checkpointId, keys: 1, missing_tools: [] });
        assert.deepEqual(expectResult(await s.call(4, "state.get", { key: "kept" }), 4), [1, 2]);
        s.close();
      } finally {
        await second.dispose();
      }
    } finally {
      await first.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a malformed --policy file, or a missing one, makes the daemon exit 2 naming the file and line", async () => {
    const root = mkdtempSync(join(tmpdir(), `car-policy-bad-${rt}-`));
    try {
      const bad = join(root, "bad.toml");
      writeFileSync(bad, MALFORMED);
      const r = await runRefused(rt, ["--port", "0", "--no-auth", "--policy", bad]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:5`));
      assert.match(r.stderr, /prm/);
      assert.doesNotMatch(r.stdout, /listening/);
      const missing = await runRefused(rt, ["--port", "0", "--no-auth", "--policy", join(root, "absent.toml")]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /absent\.toml/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}
