import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

// The same check runs under Bun and Deno when their npm packages are installed (devDependencies).
const runtimes: Array<[string, string, string[]]> = [
  ["bun", "node_modules/.bin/bun", ["test/fixtures/subprocess-check.ts"]],
  ["deno", "node_modules/.bin/deno", ["run", "-A", "--no-config", "test/fixtures/subprocess-check.ts"]],
];
const posix = process.platform !== "win32" && existsSync("/proc/self/stat");

for (const [name, bin, args] of runtimes) {
  const skip = !posix ? "needs /bin/sh and /proc" : !existsSync(bin) ? `${name} is not installed in node_modules` : false;
  test(`subprocess runner on ${name}: argv, env allow-list, timeout kills the group, cancellation`, { skip }, () => {
    const res = spawnSync(bin, args, { encoding: "utf8", timeout: 60_000 });
    assert.equal(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout.trim().split("\n").pop()!);
    assert.deepEqual(out, { stdout: "k- a b; ls\n", timed_out: true, grandchild_dead: true, canceled: "[car:subprocess] canceled: bye" });
  });
}
