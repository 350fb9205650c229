import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, test } from "node:test";

// The fs adapter must work on Bun and Deno through their node:fs. When the runtime is installed
// (devDependency or PATH), run a smoke script and the fs/memory conformance suites on it.
function find(bin: string): string | undefined {
  const dirs = [join("node_modules", ".bin"), ...(process.env.PATH ?? "").split(delimiter)];
  return dirs.map((d) => join(d, bin)).find((p) => existsSync(p));
}

const base = await mkdtemp(join(tmpdir(), "car-runtimes-"));
after(() => rm(base, { recursive: true, force: true }));

const runtimes = [
  { name: "bun", bin: find("bun"), smoke: ["test/storage/fixtures/fs-smoke.ts"], suite: ["test", "./test/storage/fs.test.ts", "./test/storage/memory.test.ts"] },
  { name: "deno", bin: find("deno"), smoke: ["run", "-A", "--no-check", "test/storage/fixtures/fs-smoke.ts"], suite: ["test", "-A", "--no-check", "test/storage/fs.test.ts", "test/storage/memory.test.ts"] },
];

for (const rt of runtimes) {
  const skip = rt.bin ? false : `${rt.name} is not installed (neither a devDependency nor on PATH)`;
  test(`fs storage on ${rt.name}: smoke script and conformance suites`, { skip }, () => {
    const smoke = spawnSync(rt.bin!, [...rt.smoke, join(base, rt.name)], { encoding: "utf8", timeout: 60_000 });
    assert.equal(smoke.stdout.trim(), "ok", `${rt.name} smoke: ${smoke.stderr}`);
    const suite = spawnSync(rt.bin!, rt.suite, { encoding: "utf8", timeout: 120_000 });
    assert.equal(suite.status, 0, `${rt.name} conformance:\n${suite.stdout.slice(-3000)}\n${suite.stderr.slice(-3000)}`);
  });
}
