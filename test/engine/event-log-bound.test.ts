import { test } from "node:test";
import assert from "node:assert/strict";
import { EventLog, ManualClock } from "../../src/index.ts";

test("a bounded event log keeps exactly the newest maxEvents, in order, through many drops", async () => {
  const log = new EventLog({ clock: new ManualClock(0), maxEvents: 10 });
  for (let i = 0; i < 1000; i++) {
    log.append({ kind: "action_validated", action_id: `a${i}` });
    assert.equal(log.count(), Math.min(i + 1, 10));
  }
  assert.deepEqual(log.all().map((e) => e.action_id), Array.from({ length: 10 }, (_, i) => `a${990 + i}`));
  assert.deepEqual(log.query({ limit: 3 }).map((e) => e.action_id), ["a999", "a998", "a997"]);
  assert.equal((await log.toJSONL()).trim().split("\n").length, 10);
  // Appends after a query (which compacts) keep the bound.
  log.append({ kind: "action_validated", action_id: "last" });
  assert.equal(log.count(), 10);
  assert.equal(log.all()[0]!.action_id, "a991");
  assert.equal(log.query({ limit: 1 })[0]!.action_id, "last");
});

test("a bounded, chained event log verifies what it still holds", async () => {
  const log = new EventLog({ clock: new ManualClock(0), maxEvents: 5 });
  log.enableChain();
  for (let i = 0; i < 23; i++) log.append({ kind: "action_validated", action_id: `a${i}` });
  assert.deepEqual(await log.verifyChain(), { verified: 5 });
});
