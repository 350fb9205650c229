#!/usr/bin/env node
// Runs every *.test.ts under test/ with Node's test runner (TypeScript through tsx).
// Node 20's --test takes no globs, so the files are listed here. Extra args filter by substring.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk("test").filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
// scripts/setup-webgpu.sh writes the Vulkan driver settings WebGPU tests need (KEY=VALUE lines).
const env = { ...process.env };
if (existsSync(".webgpu-env")) {
  for (const line of readFileSync(".webgpu-env", "utf8").split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m && env[m[1]] === undefined) env[m[1]] = m[2];
  }
}
const res = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=spec", ...files], { stdio: "inherit", env });
process.exit(res.status ?? 1);
