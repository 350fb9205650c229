import assert from "node:assert/strict";
import { test } from "node:test";
import { RwLock } from "../../src/storage/rw-lock.ts";

const tick = () => new Promise<void>((r) => setImmediate(r));

test("readers share, a writer runs alone, and waiters are served in arrival order", async () => {
  const lock = new RwLock();
  const log: string[] = [];
  let active = 0;
  let writerActive = false;
  const job = (name: string, write: boolean) =>
    (write ? lock.write.bind(lock) : lock.read.bind(lock))(async () => {
      assert.ok(!writerActive, `${name} overlaps a writer`);
      if (write) assert.equal(active, 0, `${name} overlaps readers`);
      active++;
      writerActive = write;
      log.push(`+${name}`);
      await tick();
      await tick();
      log.push(`-${name}`);
      active--;
      writerActive = false;
    });
  await Promise.all([job("r1", false), job("r2", false), job("w1", true), job("r3", false), job("w2", true)]);
  assert.deepEqual(log, ["+r1", "+r2", "-r1", "-r2", "+w1", "-w1", "+r3", "-r3", "+w2", "-w2"]);
});

test("a failing holder releases the lock", async () => {
  const lock = new RwLock();
  await assert.rejects(lock.write(async () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await lock.read(async () => 1), 1);
  assert.equal(await lock.write(async () => 2), 2);
});
