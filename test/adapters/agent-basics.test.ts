import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock, Runtime, SeededRandom } from "../../src/index.ts";
import { registerAgentBasics } from "../../adapters/tools/agent-basics.ts";

async function setup() {
  const base = mkdtempSync(join(tmpdir(), "car-basics-"));
  const root = join(base, "root");
  mkdirSync(join(root, "src", "deep"), { recursive: true });
  writeFileSync(join(root, "src", "a.txt"), "alpha\nneedle one\n");
  writeFileSync(join(root, "src", "deep", "b.txt"), "needle two\nbeta\n");
  writeFileSync(join(root, "bin.dat"), Buffer.from([110, 101, 101, 100, 108, 101, 0, 1]));
  writeFileSync(join(base, "outside.txt"), "secret needle\n");
  mkdirSync(join(base, "outdir"));
  symlinkSync(join(base, "outside.txt"), join(root, "link-out.txt"));
  symlinkSync(join(base, "outdir"), join(root, "dir-out"));
  symlinkSync(join(root, "src", "a.txt"), join(root, "link-in.txt"));
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(1) });
  await registerAgentBasics(rt, { root });
  const run = async (tool: string, parameters: Record<string, unknown>) => (await rt.executeProposal({ actions: [{ id: "x", type: "tool_call", tool, parameters, failure_behavior: "skip" }] })).results[0]!;
  return { base, root, rt, run };
}

test("read_file, write_file, list_dir and search_text work inside the root", async () => {
  const { root, run } = await setup();
  const read = await run("read_file", { path: "src/a.txt" });
  assert.deepEqual(read.output, { path: "src/a.txt", content: "alpha\nneedle one\n", size: 17, offset: 0, truncated: false });
  assert.equal((await run("read_file", { path: "link-in.txt" })).status, "succeeded", "a link that stays inside is fine");
  const write = await run("write_file", { path: "new/dir/c.txt", content: "needle three" });
  assert.deepEqual(write.output, { path: "new/dir/c.txt", bytes: 12 });
  assert.equal(readFileSync(join(root, "new", "dir", "c.txt"), "utf8"), "needle three");
  const list = await run("list_dir", { path: "." });
  assert.deepEqual((list.output as { entries: Array<{ name: string; type: string }> }).entries.map((e) => `${e.name}:${e.type}`), ["bin.dat:file", "dir-out:symlink", "link-in.txt:symlink", "link-out.txt:symlink", "new:dir", "src:dir"]);
  const search = await run("search_text", { query: "needle" });
  assert.deepEqual((search.output as { matches: Array<{ path: string; line: number }> }).matches.map((m) => `${m.path}:${m.line}`), ["new/dir/c.txt:1", "src/a.txt:2", "src/deep/b.txt:1"]);
  assert.equal((await run("read_file", { path: "missing.txt" })).status, "failed");
});

const escapes: Array<[string, string, Record<string, unknown>, RegExp]> = [
  ["dotdot read", "read_file", { path: "../outside.txt" }, /leaves the root through \.\./],
  ["nested dotdot", "read_file", { path: "src/../../outside.txt" }, /leaves the root through \.\./],
  ["absolute read", "read_file", { path: "/etc/passwd" }, /absolute paths are not allowed/],
  ["symlink read", "read_file", { path: "link-out.txt" }, /symbolic link to outside the root/],
  ["write through dir symlink", "write_file", { path: "dir-out/evil.txt", content: "x" }, /symbolic link to outside the root/],
  ["write over outside link", "write_file", { path: "link-out.txt", content: "x" }, /symbolic link to outside the root/],
  ["dotdot write", "write_file", { path: "../evil.txt", content: "x" }, /leaves the root/],
  ["list dotdot", "list_dir", { path: ".." }, /leaves the root/],
  ["list symlinked dir", "list_dir", { path: "dir-out" }, /symbolic link/],
  ["search outside", "search_text", { query: "needle", path: "../" }, /leaves the root/],
  ["search via link", "search_text", { query: "needle", path: "dir-out" }, /symbolic link/],
  ["NUL byte", "read_file", { path: "src/a.txt\u0000" }, /not a valid path/],
];
for (const [what, tool, parameters, re] of escapes) {
  test(`path escape rejected with a clear error: ${what}`, async () => {
    const { base, run } = await setup();
    const r = await run(tool, parameters);
    assert.equal(r.status, "failed");
    assert.match(r.error!, re);
    assert.ok(!r.error!.includes("secret"), "nothing from outside leaks");
    assert.equal(existsSync(join(base, "evil.txt")) || existsSync(join(base, "outdir", "evil.txt")), false);
    assert.equal(readFileSync(join(base, "outside.txt"), "utf8"), "secret needle\n");
  });
}

test("search_text skips symlinks and binary files; the root must exist", async () => {
  const { run } = await setup();
  const s = await run("search_text", { query: "secret" });
  assert.deepEqual((s.output as { matches: unknown[] }).matches, []);
  const rt = new Runtime();
  await assert.rejects(registerAgentBasics(rt, { root: "/no/such/root" }), /not an existing directory/);
});
