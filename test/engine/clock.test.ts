import { test } from "node:test";
import assert from "node:assert/strict";
import { systemClock } from "../../src/index.ts";

test("systemClock waits out a delay past setTimeout's 32-bit limit instead of firing at once", async () => {
  let fired = 0;
  const cancel = systemClock.setTimer(2 ** 31 + 1000, () => void fired++);
  const cancelLonger = systemClock.setTimer(3 * 2 ** 31, () => void fired++);
  // An overflowing delay fires as if 1 ms: it would have run before this 10 ms timer.
  await new Promise<void>((r) => systemClock.setTimer(10, r));
  cancel();
  cancelLonger();
  assert.equal(fired, 0);
});
