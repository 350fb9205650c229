import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock, Runtime, SeededRandom, ValidationError } from "../../src/index.ts";
import { loadPolicyDir, loadPolicyFile } from "../../adapters/policies/fs.ts";

test("loadPolicyDir loads *.toml and *.json in sorted order; a malformed file loads nothing and names file and line", async () => {
  const dir = mkdtempSync(join(tmpdir(), "car-pol-"));
  writeFileSync(join(dir, "20-b.json"), JSON.stringify({ deny_tool: ["b"] }));
  writeFileSync(join(dir, "10-a.toml"), `deny_tool = ["a"]\n`);
  writeFileSync(join(dir, "README.md"), "ignored");
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(1) });
  assert.deepEqual(await loadPolicyDir(rt.policies, dir), ["10-a.toml", "20-b.json"]);
  assert.deepEqual(rt.listPolicies().map((p) => p.name), ["file:10-a.toml", "file:20-b.json"]);
  assert.deepEqual(await loadPolicyDir(rt.policies, join(dir, "missing")), []);

  writeFileSync(join(dir, "30-bad.toml"), `deny_tool = ["c"]\n\n[[deny_tool_param]]\ntool = 1\n`);
  const fresh = new Runtime({ clock: new ManualClock(), random: new SeededRandom(1) });
  await assert.rejects(loadPolicyDir(fresh.policies, dir), (e: unknown) => e instanceof ValidationError && /30-bad\.toml:4: deny_tool_param\[0\]\.tool/.test(e.message));
  assert.deepEqual(fresh.listPolicies(), []);
  await assert.rejects(loadPolicyFile(fresh.policies, join(dir, "nope.toml")), /cannot read policy file/);
  assert.equal(await loadPolicyFile(fresh.policies, join(dir, "10-a.toml")), `file:${join(dir, "10-a.toml")}`);
});
