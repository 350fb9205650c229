// Runs the WebGPU backend on Deno (its built-in navigator.gpu) against the CPU oracle: deno-check.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";

const deno = "node_modules/.bin/deno";

test("Deno: WebGPU logits and greedy tokens match the CPU oracle", async (t) => {
  if (!existsSync(deno)) return t.skip("deno binary not installed (devDependency `deno`)");
  const r = spawnSync(deno, ["run", "-A", "test/inference/deno-check.ts"], { encoding: "utf8", timeout: 120_000 });
  const out = `${r.stdout}${r.stderr}`;
  const skip = /^skip: (.*)$/m.exec(r.stdout);
  if (skip) return t.skip(skip[1]!);
  assert.equal(r.status, 0, out);
  assert.match(r.stdout, /deno webgpu ok/);
});
