import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock, Runtime, SeededRandom } from "../../src/index.ts";

test("rt.verifyProposal reports policy and capability denials before anything runs", () => {
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(1) });
  rt.registerTool({ name: "shell" }, () => "ran");
  rt.registerTool({ name: "mail" }, () => "sent");
  rt.registerPolicy({ name: "no_rm", rule: "deny_tool_param", target: "shell", key: "command", pattern: "rm -rf" });
  rt.setCapabilities({ denied_tools: ["mail"] });
  const bad = rt.verifyProposal({ actions: [{ id: "a", type: "tool_call", tool: "shell", parameters: { command: "rm -rf /" } }, { id: "b", type: "tool_call", tool: "mail" }] });
  assert.equal(bad.valid, false);
  assert.ok(bad.issues.some((i) => i.action_id === "a" && i.severity === "error" && /no_rm/.test(i.message)), JSON.stringify(bad.issues));
  assert.ok(bad.issues.some((i) => i.action_id === "b" && i.severity === "error"), JSON.stringify(bad.issues));
  assert.ok(!JSON.stringify(bad.issues).includes("rm -rf /"), "the matched value is never echoed");
  const good = rt.verifyProposal({ actions: [{ id: "a", type: "tool_call", tool: "shell", parameters: { command: "ls" } }] });
  assert.equal(good.valid, true, JSON.stringify(good.issues));
});

test("verifying does not consume rate_limit_tool windows", async () => {
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(1) });
  rt.registerTool({ name: "ping" }, () => "pong");
  rt.policies.loadFile('[[rate_limit_tool]]\ntool = "ping"\nmax_calls = 1\ninterval_secs = 60\n', { source: "rate.toml" });
  const p = { actions: [{ id: "a", type: "tool_call", tool: "ping" }] };
  for (let i = 0; i < 3; i++) assert.equal(rt.verifyProposal(p).valid, true);
  const res = await rt.executeProposal(p);
  assert.equal(res.results[0]!.status, "succeeded");
  const again = await rt.executeProposal(p);
  assert.equal(again.results[0]!.status, "rejected");
});
