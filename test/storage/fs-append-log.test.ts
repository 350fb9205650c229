import assert from "node:assert/strict";
import { appendFile, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createFsAppendLog, recoverAppendLog } from "../../adapters/storage/fs.ts";
import type { AppendLog } from "../../src/storage/storage.ts";
import { rejectsWith } from "./helpers.ts";
import { killHard, spawnFixture, waitForLine } from "./spawn.ts";

const base = await mkdtemp(join(tmpdir(), "car-fs-log-"));
after(() => rm(base, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(base, `t${++n}`, "events.log");
const enc = (s: string) => new TextEncoder().encode(s);

async function texts(log: AppendLog): Promise<string[]> {
  const out: string[] = [];
  for await (const r of log.read()) out.push(new TextDecoder().decode(r.data));
  return out;
}

/** A log holding `records`, closed; returns each record's offset and the file size. */
async function makeLog(path: string, records: string[]): Promise<{ offsets: number[]; size: number }> {
  const log = await createFsAppendLog({ path });
  const offsets: number[] = [];
  for (const r of records) offsets.push(await log.append(enc(r)));
  await log.close();
  return { offsets, size: (await stat(path)).size };
}

const torn: Array<[string, (path: string, size: number) => Promise<void>]> = [
  ["a partial record header", (p) => appendFile(p, Uint8Array.from([5, 0, 0]))],
  ["a record cut short", async (p, size) => {
    const log = await createFsAppendLog({ path: p });
    await log.append(enc("this one was never acknowledged"));
    await log.close();
    await truncate(p, size + 20);
  }],
  ["a zero-filled tail", (p) => appendFile(p, new Uint8Array(4096))],
  ["a last record with a bad checksum", async (p, size) => {
    const log = await createFsAppendLog({ path: p });
    await log.append(enc("rotten tail"));
    await log.close();
    const bytes = await readFile(p);
    bytes[size + 14] = bytes[size + 14]! ^ 0xff;
    await writeFile(p, bytes);
  }],
];

for (const [what, damage] of torn) {
  test(`a torn tail (${what}) is cut off on open, keeping every earlier record`, async () => {
    const path = freshPath();
    const { size } = await makeLog(path, ["a", "b", "c"]);
    await damage(path, size);
    const seen: Array<{ offset: number; droppedBytes: number }> = [];
    const log = await createFsAppendLog({ path, onTornTail: (info) => seen.push(info) });
    assert.deepEqual(await texts(log), ["a", "b", "c"]);
    assert.equal((await stat(path)).size, size, "the file is cut back to the last good record");
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.offset, size);
    await log.append(enc("d"));
    assert.deepEqual(await texts(log), ["a", "b", "c", "d"]);
    await log.close();
  });
}

test("a bad record in the middle is `corrupted` (file and offset), never cut silently; recoverAppendLog cuts it back", async () => {
  const path = freshPath();
  const { offsets, size } = await makeLog(path, ["zero", "one", "two", "three", "four"]);
  const bytes = await readFile(path);
  bytes[offsets[2]! + 12] = bytes[offsets[2]! + 12]! ^ 0x20;
  await writeFile(path, bytes);
  const err = await rejectsWith(() => createFsAppendLog({ path }), "corrupted");
  assert.equal(err.details?.file, path);
  assert.equal(err.details?.offset, offsets[2]);
  assert.match(err.message, new RegExp(`offset ${offsets[2]}`));
  assert.match(err.message, /recoverAppendLog/);
  assert.equal((await stat(path)).size, size, "opening changed nothing");

  const result = await recoverAppendLog(path);
  assert.equal(result.truncatedAt, offsets[2]);
  assert.equal(result.records, 2);
  assert.equal(result.droppedBytes, size - offsets[2]!);
  assert.ok(result.savedTo);
  assert.deepEqual(await readFile(result.savedTo), bytes.subarray(offsets[2]!), "the dropped bytes are kept for inspection");
  const log = await createFsAppendLog({ path });
  assert.deepEqual(await texts(log), ["zero", "one"]);
  await log.close();
});

test("a bad length in the middle is `corrupted`, not mistaken for a torn tail", async () => {
  const path = freshPath();
  const { offsets } = await makeLog(path, ["zero", "one", "two"]);
  const bytes = await readFile(path);
  bytes[offsets[1]! + 2] = 0x7f; // the length now points far past the end of the file
  await writeFile(path, bytes);
  const err = await rejectsWith(() => createFsAppendLog({ path }), "corrupted");
  assert.equal(err.details?.offset, offsets[1]);
});

test("recoverAppendLog leaves an intact log alone, refuses a log in use and a file that is not a log", async () => {
  const path = freshPath();
  const { size } = await makeLog(path, ["a", "b"]);
  const intact = await recoverAppendLog(path);
  assert.equal(intact.truncatedAt, undefined);
  assert.equal(intact.records, 2);
  assert.equal((await stat(path)).size, size);

  const log = await createFsAppendLog({ path });
  await rejectsWith(() => recoverAppendLog(path), "locked");
  await log.close();

  const other = freshPath();
  await makeLog(other, []);
  await writeFile(other, "definitely not a log, just text");
  await rejectsWith(() => createFsAppendLog({ path: other }), "corrupted");
  await rejectsWith(() => recoverAppendLog(other), "corrupted");
  assert.equal(await readFile(other, "utf8"), "definitely not a log, just text");
});

test("two processes never write the same log", async () => {
  const path = freshPath();
  const log = await createFsAppendLog({ path });
  const err = await rejectsWith(() => createFsAppendLog({ path }), "locked");
  assert.match(err.message, new RegExp(`pid ${process.pid}`));
  await log.close();

  const child = spawnFixture("lock-holder.ts", ["log", path]);
  try {
    await waitForLine(child, "ready");
    const e2 = await rejectsWith(() => createFsAppendLog({ path }), "locked");
    assert.equal(e2.details?.pid, child.pid);
    await killHard(child);
    const again = await createFsAppendLog({ path });
    await again.append(enc("after the holder died"));
    await again.close();
  } finally {
    await killHard(child);
  }
});

test("a read during compaction fails with `conflict` instead of reading moved offsets", async () => {
  const path = freshPath();
  const log = await createFsAppendLog({ path });
  for (let i = 0; i < 10; i++) await log.append(enc(`r${i}`));
  const it = log.read()[Symbol.asyncIterator]();
  assert.equal((await it.next()).done, false);
  await log.compact((r) => r[1]! % 2 === 0);
  await rejectsWith(() => it.next(), "conflict");
  assert.deepEqual(await texts(log), ["r0", "r2", "r4", "r6", "r8"]);
  await log.close();
});

test("leftovers of an interrupted compaction are removed on open", async () => {
  const path = freshPath();
  await makeLog(path, ["a"]);
  await writeFile(`${path}.compact-1-2-xyz`, "half a compaction");
  const log = await createFsAppendLog({ path });
  assert.deepEqual(await texts(log), ["a"]);
  assert.deepEqual((await readdir(join(path, ".."))).sort(), ["events.log", "events.log.lock"]);
  await log.close();
});
