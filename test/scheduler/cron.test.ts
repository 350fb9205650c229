import { test } from "node:test";
import assert from "node:assert/strict";
import { CarError, SeededRandom, cronMatches, nextCronTime, parseCron, parseInterval, prevCronTime } from "../../src/index.ts";

const at = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

test("nextCronTime: steps, ranges, weekdays, names, macros, leap days", () => {
  assert.equal(iso(nextCronTime(parseCron("*/15 * * * *"), at("2026-01-01T00:00:30Z"))), "2026-01-01T00:15:00.000Z");
  assert.equal(iso(nextCronTime(parseCron("*/15 * * * *"), at("2026-01-01T00:15:00Z"))), "2026-01-01T00:30:00.000Z");
  // 2026-01-01 is a Thursday.
  const weekdays = parseCron("0 9 * * 1-5");
  assert.equal(iso(nextCronTime(weekdays, at("2026-01-01T10:00:00Z"))), "2026-01-02T09:00:00.000Z");
  assert.equal(iso(nextCronTime(weekdays, at("2026-01-02T09:00:00Z"))), "2026-01-05T09:00:00.000Z");
  assert.equal(iso(nextCronTime(parseCron("30 12 * JAN,jul sun"), at("2026-01-05T00:00:00Z"))), "2026-01-11T12:30:00.000Z");
  assert.equal(iso(nextCronTime(parseCron("@hourly"), at("2026-03-01T10:59:59Z"))), "2026-03-01T11:00:00.000Z");
  assert.equal(iso(nextCronTime(parseCron("0 0 29 2 *"), at("2026-01-01T00:00:00Z"))), "2028-02-29T00:00:00.000Z");
  assert.equal(iso(nextCronTime(parseCron("0 0 * * 7"), at("2026-01-01T00:00:00Z"))), "2026-01-04T00:00:00.000Z");
  assert.equal(iso(nextCronTime(parseCron("5/20 1-3 * * *"), at("2026-01-01T01:50:00Z"))), "2026-01-01T02:05:00.000Z");
  assert.equal(nextCronTime(parseCron("0 0 30 2 *"), at("2026-01-01T00:00:00Z")), undefined);
});

test("day-of-month and day-of-week: either matches when both are restricted", () => {
  const c = parseCron("0 0 13 * fri");
  // Fri 2026-01-02 (a Friday), then Tue 2026-01-13 (the 13th).
  assert.equal(iso(nextCronTime(c, at("2026-01-01T00:00:00Z"))), "2026-01-02T00:00:00.000Z");
  assert.equal(iso(nextCronTime(c, at("2026-01-10T00:00:00Z"))), "2026-01-13T00:00:00.000Z");
  const onlyDom = parseCron("0 0 13 * *");
  assert.equal(iso(nextCronTime(onlyDom, at("2026-01-01T00:00:00Z"))), "2026-01-13T00:00:00.000Z");
});

test("prevCronTime is the last firing at or before a time", () => {
  assert.equal(iso(prevCronTime(parseCron("30 * * * *"), at("2026-01-01T10:29:59Z"))), "2026-01-01T09:30:00.000Z");
  assert.equal(iso(prevCronTime(parseCron("30 * * * *"), at("2026-01-01T10:30:00Z"))), "2026-01-01T10:30:00.000Z");
  assert.equal(iso(prevCronTime(parseCron("0 9 * * 1-5"), at("2026-01-04T12:00:00Z"))), "2026-01-02T09:00:00.000Z");
});

test("next/prev agree with a minute-by-minute scan", () => {
  const rnd = new SeededRandom(11);
  const exprs = ["*/7 * * * *", "15 */5 * * *", "0 0 1,15 * *", "0 12 * * sat,sun", "45 23 * 2 mon-wed", "0 0 13 * 5"];
  for (const e of exprs) {
    const c = parseCron(e);
    for (let i = 0; i < 5; i++) {
      const t = at("2026-01-01T00:00:00Z") + Math.floor(rnd.next() * 40 * 86_400_000);
      const next = nextCronTime(c, t)!;
      const prev = prevCronTime(c, t)!;
      assert.ok(cronMatches(c, next) && cronMatches(c, prev), e);
      assert.ok(next > t && prev <= t, e);
      const scanLimit = Math.min(next, t + 3 * 86_400_000);
      for (let m = Math.floor(t / 60_000) * 60_000 + 60_000; m < scanLimit; m += 60_000) assert.ok(!cronMatches(c, m), `${e}: ${iso(m)} matches before next`);
      for (let m = Math.max(prev + 60_000, t - 3 * 86_400_000); m <= t; m += 60_000) assert.ok(!cronMatches(c, m), `${e}: ${iso(m)} matches after prev`);
    }
  }
});

test("bad cron expressions are CarErrors saying what is wrong", () => {
  const cases: Array<[string, RegExp]> = [
    ["* * * *", /expected 5 fields/],
    ["60 * * * *", /minute: 60 is outside 0-59/],
    ["x * * * *", /minute: "x" is not a number/],
    ["5-1 * * * *", /runs backwards/],
    ["*/0 * * * *", /step must be at least 1/],
    ["0 0 * foo *", /month: "foo" is not a number or name/],
    ["@reboot", /expected 5 fields/],
  ];
  for (const [e, re] of cases) assert.throws(() => parseCron(e), (err: unknown) => err instanceof CarError && err.code === "invalid_input" && re.test(err.message), e);
});

test("parseInterval reads unit strings", () => {
  assert.equal(parseInterval("5m"), 300_000);
  assert.equal(parseInterval("1h30m"), 5_400_000);
  assert.equal(parseInterval("1.5h"), 5_400_000);
  assert.equal(parseInterval("90 s"), 90_000);
  assert.equal(parseInterval("250ms"), 250);
  assert.equal(parseInterval("2d"), 172_800_000);
  for (const bad of ["", "5", "5x", "m", "5m garbage"]) assert.throws(() => parseInterval(bad), /invalid interval/, bad);
});
