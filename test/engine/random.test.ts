import { test } from "node:test";
import assert from "node:assert/strict";
import { SeededRandom, hexId, systemRandom, uuidFrom } from "../../src/engine/random.ts";

test("systemRandom serves fresh bytes of every size, across pool refills and above the pool", () => {
  const seen = new Set<string>();
  // 3,000 × 16 bytes crosses several 4 KiB pool refills.
  for (let i = 0; i < 3000; i++) {
    const b = systemRandom.bytes(16);
    assert.equal(b.length, 16);
    seen.add(Buffer.from(b).toString("hex"));
  }
  assert.equal(seen.size, 3000);
  assert.equal(systemRandom.bytes(0).length, 0);
  const big = systemRandom.bytes(10_000);
  assert.equal(big.length, 10_000);
  assert.ok(big.some((x) => x !== 0));
  // Callers own what they get: writing to it does not change later draws.
  const a = systemRandom.bytes(8);
  a.fill(0);
  assert.notDeepEqual(systemRandom.bytes(8), new Uint8Array(8));
});

test("systemRandom.next is in [0, 1) and varies", () => {
  const xs = Array.from({ length: 200 }, () => systemRandom.next());
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.ok(new Set(xs).size > 190);
});

test("uuidFrom and hexId format ids; SeededRandom replays them", () => {
  assert.match(uuidFrom(systemRandom), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(hexId(systemRandom), /^[0-9a-f]{12}$/);
  assert.match(hexId(systemRandom, 7), /^[0-9a-f]{7}$/);
  assert.equal(hexId(new SeededRandom(7), 16), hexId(new SeededRandom(7), 16));
  assert.equal(uuidFrom(new SeededRandom(1)), uuidFrom(new SeededRandom(1)));
  assert.notEqual(uuidFrom(new SeededRandom(1)), uuidFrom(new SeededRandom(2)));
});
