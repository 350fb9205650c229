/** The browser pages' `node:assert/strict` shim agrees with Node's deepStrictEqual, so a case passing in Chromium means what it means here. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { isDeepStrictEqual as nodeDeepStrictEqual } from "node:util";
import shim, { isDeepStrictEqual } from "./shims/assert-strict.ts";

class Point {
  constructor(public x = 1) {}
}
const cyclic = (): object => {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
};
const sparse = [1, , 3];

const PAIRS: Array<[string, unknown, unknown]> = [
  ["same number", 1, 1], ["1 vs '1'", 1, "1"], ["NaN", NaN, NaN], ["0 vs -0", 0, -0], ["null vs undefined", null, undefined],
  ["objects", { a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }], ["extra key", { a: 1 }, { a: 1, b: undefined }], ["nested diff", { a: { b: [1] } }, { a: { b: [2] } }],
  ["arrays", [1, "x", null], [1, "x", null]], ["length", [1, 2], [1, 2, 3]], ["sparse vs undefined", sparse, [1, undefined, 3]],
  ["array vs object", [1], { 0: 1 }], ["null-proto", Object.create(null), {}], ["class vs plain", new Point(), { x: 1 }], ["class", new Point(2), new Point(2)],
  ["bytes", Uint8Array.from([1, 2]), Uint8Array.from([1, 2])], ["bytes diff", Uint8Array.from([1, 2]), Uint8Array.from([1, 3])],
  ["bytes vs Buffer", Uint8Array.from([1, 2]), Buffer.from([1, 2])], ["bytes vs array", Uint8Array.from([1]), [1]],
  ["bytes vs Int8", Uint8Array.from([1]), Int8Array.from([1])], ["empty bytes", new Uint8Array(0), new Uint8Array(0)],
  ["views", Uint8Array.from([0, 1, 2, 3]).subarray(1, 3), Uint8Array.from([1, 2])], ["dates", new Date(5), new Date(5)], ["date diff", new Date(5), new Date(6)],
  ["cycles", cyclic(), cyclic()], ["strings", "héllo\u0000", "héllo\u0000"], ["boxed", Object(1), 1],
];

test("the assert shim's deepEqual agrees with Node's deepStrictEqual", () => {
  for (const [what, a, b] of PAIRS) {
    assert.equal(isDeepStrictEqual(a, b), nodeDeepStrictEqual(a, b), what);
    assert.equal(isDeepStrictEqual(b, a), nodeDeepStrictEqual(b, a), `${what} (swapped)`);
  }
});

test("the assert shim throws where Node's assert throws", async () => {
  assert.throws(() => shim.equal(1, 2, "msg"), /msg/);
  assert.throws(() => shim.ok(0));
  assert.throws(() => shim.deepEqual({ a: 1 }, { a: 2 }));
  shim.deepEqual({ a: [Uint8Array.from([1])] }, { a: [Uint8Array.from([1])] });
  await shim.rejects(Promise.reject(new Error("x")));
  await assert.rejects(shim.rejects(Promise.resolve(1)), /expected a rejection/);
  await assert.rejects(shim.rejects(() => Promise.reject(new Error("boom")), /other/), /does not match/);
});
