import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { after, test } from "node:test";
import { encodeBatch } from "../../adapters/storage/fs-batch.ts";
import { createFsStorage, keyToName } from "../../adapters/storage/fs.ts";
import { encodeValue } from "../../src/storage/values.ts";
import { HOSTILE_KEYS, rejectsWith } from "./helpers.ts";
import { killHard, spawnFixture, waitForLine } from "./spawn.ts";

const base = await mkdtemp(join(tmpdir(), "car-fs-storage-"));
after(() => rm(base, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(base, `t${++n}`);

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...(await walk(p)));
  }
  return out;
}

test("hostile keys never leave the root and make only safe names", async () => {
  const outer = fresh();
  const root = join(outer, "inner", "root");
  const s = await createFsStorage({ root });
  for (const k of HOSTILE_KEYS) await s.set(k, k);
  await s.batch(HOSTILE_KEYS.map((k) => ({ op: "set" as const, key: k, value: 1 })));
  for (const p of await walk(outer)) {
    const rel = relative(root, p);
    assert.ok(p === join(outer, "inner") || (!rel.startsWith("..") && !rel.startsWith(sep)), `${p} is outside ${root}`);
  }
  const names = await readdir(join(root, "data"));
  assert.equal(names.length, HOSTILE_KEYS.length);
  for (const name of names) assert.match(name, /^(k[a-z0-9%_-]*|h[0-9a-f]{64})$/);
  assert.ok(names.every((x) => x.length <= 200));
  await s.close();
});

test("key names are injective across case and escapes", () => {
  const keys = ["A", "a", "%41", "%61", "k", "", "\u00e9", "e\u0301", "..", "%2e%2e", "a/b", "a%2fb", "x".repeat(250), "x".repeat(251)];
  const names = keys.map(keyToName);
  assert.equal(new Set(names).size, keys.length);
  assert.ok(names.every((x) => x === x.toLowerCase()), "names are lowercase ASCII");
});

test("a second open in the same process is refused, naming this pid", async () => {
  const root = fresh();
  const s = await createFsStorage({ root });
  const err = await rejectsWith(() => createFsStorage({ root }), "locked");
  assert.match(err.message, new RegExp(`pid ${process.pid}`));
  await s.close();
  const again = await createFsStorage({ root });
  await again.close();
});

test("another live process's lock is refused; once it is killed the stale lock is taken over", async () => {
  const root = fresh();
  const child = spawnFixture("lock-holder.ts", ["storage", root]);
  try {
    await waitForLine(child, "ready");
    const err = await rejectsWith(() => createFsStorage({ root }), "locked");
    assert.match(err.message, new RegExp(`locked by pid ${child.pid}\\b`));
    assert.equal(err.details?.pid, child.pid);
    await killHard(child);
    const s = await createFsStorage({ root });
    await s.set("k", 1);
    await s.close();
  } finally {
    await killHard(child);
  }
});

test("stale locks are recovered: dead pid, and our own pid left by an earlier process", async () => {
  for (const pid of [2 ** 22 + 12345, process.pid]) {
    const root = fresh();
    await mkdir(root, { recursive: true });
    await writeFile(join(root, "LOCK"), JSON.stringify({ pid, hostname: hostname() }));
    const s = await createFsStorage({ root });
    // The stale holder was replaced by this open, not left in place.
    const holder = JSON.parse(await readFile(join(root, "LOCK"), "utf8")) as { pid: number; token?: string };
    assert.equal(holder.pid, process.pid);
    assert.equal(typeof holder.token, "string");
    await s.close();
    assert.equal(existsSync(join(root, "LOCK")), false);
  }
});

test("a lock held on another host or an unreadable lock is refused", async () => {
  const root = fresh();
  await mkdir(root, { recursive: true });
  await writeFile(join(root, "LOCK"), JSON.stringify({ pid: 1, hostname: "elsewhere.example" }));
  const err = await rejectsWith(() => createFsStorage({ root }), "locked");
  assert.match(err.message, /host elsewhere\.example/);
  await writeFile(join(root, "LOCK"), "garbage");
  await rejectsWith(() => createFsStorage({ root }), "locked");
});

test("an interrupted batch is finished on open", async () => {
  const root = fresh();
  let s = await createFsStorage({ root });
  await s.set("b", "old");
  await s.set("c", "keep");
  await s.close();
  // What a crash after the intent became durable leaves behind.
  await writeFile(join(root, "BATCH"), encodeBatch([{ key: "a", value: encodeValue({ new: true }) }, { key: "b", value: undefined }]));
  s = await createFsStorage({ root });
  assert.deepEqual(await s.list(), ["a", "c"]);
  assert.deepEqual(await s.get("a"), { new: true });
  await assert.rejects(stat(join(root, "BATCH")), { code: "ENOENT" }, "the intent is removed once applied");
  await s.close();
});

test("a corrupted batch intent is refused, naming the file", async () => {
  const root = fresh();
  await (await createFsStorage({ root })).close();
  const bytes = encodeBatch([{ key: "a", value: encodeValue(1) }]);
  bytes[14] = bytes[14]! ^ 0xff;
  await writeFile(join(root, "BATCH"), bytes);
  const err = await rejectsWith(() => createFsStorage({ root }), "corrupted");
  assert.equal(err.details?.file, join(root, "BATCH"));
  assert.equal(typeof err.details?.offset, "number");
  await rejectsWith(() => createFsStorage({ root }), "corrupted", "refused again, not `locked`: the failed open released its lock");
});

test("temp files left by a crash are removed on open", async () => {
  const root = fresh();
  await (await createFsStorage({ root })).close();
  await writeFile(join(root, "tmp", "tmp-1-1-abc"), "half a value");
  const s = await createFsStorage({ root });
  assert.deepEqual(await readdir(join(root, "tmp")), []);
  assert.deepEqual(await s.list(), []);
  await s.close();
});

test("a corrupted value file gives `corrupted` naming file and offset; deleting the key recovers", async () => {
  const root = fresh();
  let s = await createFsStorage({ root });
  await s.set("good", 1);
  await s.set("bad", "a value that will rot");
  await s.close();
  const file = join(root, "data", keyToName("bad"));
  const bytes = await readFile(file);
  bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x01;
  await writeFile(file, bytes);
  s = await createFsStorage({ root });
  const err = await rejectsWith(() => s.get("bad"), "corrupted");
  assert.equal(err.details?.file, file);
  assert.equal(err.details?.offset, 32 + "bad".length);
  assert.equal(await s.get("good"), 1);
  assert.equal(await s.delete("bad"), true);
  assert.equal(await s.get("bad"), undefined);
  await s.close();
});

test("a corrupted value header is refused on open, naming the file", async () => {
  const root = fresh();
  let s = await createFsStorage({ root });
  await s.set("k", 1);
  await s.close();
  const file = join(root, "data", keyToName("k"));
  const bytes = await readFile(file);
  bytes[17] = bytes[17]! ^ 0x40;
  await writeFile(file, bytes);
  const err = await rejectsWith(() => createFsStorage({ root }), "corrupted");
  assert.equal(err.details?.file, file);
  await rm(file);
  s = await createFsStorage({ root });
  assert.deepEqual(await s.list(), []);
  await s.close();
});

test("an unknown format version is refused; stray files in data/ are ignored", async () => {
  const root = fresh();
  let s = await createFsStorage({ root });
  await s.set("k", 1);
  await s.close();
  await writeFile(join(root, "data", ".DS_Store"), "x");
  s = await createFsStorage({ root });
  assert.deepEqual(await s.list(), ["k"]);
  await s.close();
  await writeFile(join(root, "FORMAT"), "car-fs-storage 2\n");
  await rejectsWith(() => createFsStorage({ root }), "unsupported");
});
