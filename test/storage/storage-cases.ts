import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ManualClock } from "../../src/engine/clock.ts";
import type { Storage, StorageValue } from "../../src/storage/storage.ts";
import { HOSTILE_KEYS, patternBytes, rejectsWith, skipTable } from "./helpers.ts";

/** What `make` gets: a clock the adapter must use for TTLs, and an id naming the data to open. */
export interface StorageTestContext {
  clock: ManualClock;
  id: string;
}

export interface TestStorageOptions {
  name: string;
  make: (ctx: StorageTestContext) => Promise<Storage>;
  skip?: ReadonlyArray<{ reason: string; cases: readonly StorageCaseName[] }>;
}

interface Harness {
  clock: ManualClock;
  /** Opens (or reopens) this case's store. */
  open(): Promise<Storage>;
}

type Case = (h: Harness) => Promise<void>;

const isPlainBytes = (v: unknown) => v instanceof Uint8Array && Object.getPrototypeOf(v) === Uint8Array.prototype;

const JSON_VALUES: Array<[string, StorageValue]> = [
  ["null", null], ["true", true], ["false", false], ["zero", 0], ["neg", -1.5], ["big", 1e308], ["tiny", 5e-324],
  ["maxint", Number.MAX_SAFE_INTEGER], ["empty-string", ""], ["text", "héllo\u0000wörld 😀 \ud800 lone"],
  ["empty-array", []], ["empty-object", {}], ["nested", { a: [1, { b: null, c: ["x", true] }], "": { ["__proto__"]: 1 }, "k.y": -0.25 }],
  ["array", [1, "two", null, [3], { four: 4 }]],
];

const cases = {
  "missing keys": async (h) => {
    const s = await h.open();
    assert.equal(await s.get("nope"), undefined);
    assert.equal(await s.has("nope"), false);
    assert.equal(await s.delete("nope"), false);
    assert.deepEqual(await s.list(), []);
    assert.deepEqual(await s.list("no"), []);
  },
  "json values round-trip": async (h) => {
    const s = await h.open();
    for (const [k, v] of JSON_VALUES) await s.set(k, v);
    for (const [k, v] of JSON_VALUES) assert.deepEqual(await s.get(k), JSON.parse(JSON.stringify(v)), k);
    await s.set("negzero", -0);
    assert.ok(Object.is(await s.get("negzero"), 0), "-0 follows JSON and comes back as 0");
  },
  "binary values round-trip": async (h) => {
    const s = await h.open();
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    await s.set("all", all);
    await s.set("empty", new Uint8Array(0));
    await s.set("buffer", Buffer.from([9, 8, 7]));
    const backing = Uint8Array.from([0, 1, 2, 3, 4, 5]);
    await s.set("view", backing.subarray(2, 4));
    const got = await s.get("all");
    assert.ok(isPlainBytes(got), "bytes come back as a plain Uint8Array");
    assert.deepEqual(got, all);
    assert.deepEqual(await s.get("empty"), new Uint8Array(0));
    const buf = await s.get("buffer");
    assert.ok(isPlainBytes(buf), "a Buffer comes back as a plain Uint8Array");
    assert.deepEqual(buf, Uint8Array.from([9, 8, 7]));
    assert.deepEqual(await s.get("view"), Uint8Array.from([2, 3]), "only the view's bytes are stored");
  },
  "json and bytes stay distinct": async (h) => {
    const s = await h.open();
    await s.set("arr", [1, 2, 3]);
    await s.set("bytes", Uint8Array.from([1, 2, 3]));
    await s.set("b64", "AQID");
    assert.ok(Array.isArray(await s.get("arr")));
    assert.ok(isPlainBytes(await s.get("bytes")));
    assert.equal(await s.get("b64"), "AQID");
    assert.equal(await s.compareAndSet("arr", Uint8Array.from([1, 2, 3]), 0), false, "JSON array is not equal to bytes");
    assert.equal(await s.compareAndSet("bytes", [1, 2, 3], 0), false, "bytes are not equal to a JSON array");
  },
  "values are copies": async (h) => {
    const s = await h.open();
    const bytes = Uint8Array.from([1, 2, 3]);
    const obj = { list: [1], name: "a" };
    await s.set("b", bytes);
    await s.set("o", obj);
    bytes[0] = 99;
    obj.list.push(2);
    obj.name = "changed";
    const got = (await s.get("b")) as Uint8Array;
    assert.deepEqual(got, Uint8Array.from([1, 2, 3]));
    got[1] = 77;
    assert.deepEqual(await s.get("b"), Uint8Array.from([1, 2, 3]));
    const o = (await s.get("o")) as { list: number[] };
    assert.deepEqual(o, { list: [1], name: "a" });
    o.list.push(5);
    assert.deepEqual(await s.get("o"), { list: [1], name: "a" });
  },
  "overwrite": async (h) => {
    const s = await h.open();
    await s.set("k", "one");
    await s.set("k", Uint8Array.from([2]));
    await s.set("k", { three: 3 });
    assert.deepEqual(await s.get("k"), { three: 3 });
    assert.deepEqual(await s.list(), ["k"]);
  },
  "has and delete": async (h) => {
    const s = await h.open();
    await s.set("a", null);
    assert.equal(await s.has("a"), true, "a key holding null exists");
    assert.equal(await s.get("a"), null);
    assert.equal(await s.delete("a"), true);
    assert.equal(await s.delete("a"), false);
    assert.equal(await s.has("a"), false);
    assert.equal(await s.get("a"), undefined);
    assert.deepEqual(await s.list(), []);
    await s.set("a", false);
    assert.equal(await s.get("a"), false, "a deleted key can be set again");
  },
  "unicode keys": async (h) => {
    const s = await h.open();
    const keys = ["ключ", "键", "🔑", "\u00e9", "e\u0301", "A", "a", "ß", "SS", "ǅ", "\u{10ffff}", "\u0000x", "tab\there"];
    for (const [i, k] of keys.entries()) await s.set(k, i);
    for (const [i, k] of keys.entries()) assert.equal(await s.get(k), i, JSON.stringify(k));
    assert.deepEqual(await s.list(), [...keys].sort());
  },
  "list is prefixed and ordered": async (h) => {
    const s = await h.open();
    const keys = ["b", "a", "a/b", "a/b/c", "a/", "aa", "a\u0000", "A", "a/c", "ab/x", "", "z"].filter((k) => k !== "");
    const shuffled = [...keys].reverse();
    for (const k of shuffled) await s.set(k, k);
    assert.deepEqual(await s.list(), [...keys].sort());
    assert.deepEqual(await s.list(""), [...keys].sort());
    assert.deepEqual(await s.list("a/"), ["a/", "a/b", "a/b/c", "a/c"]);
    assert.deepEqual(await s.list("a/b"), ["a/b", "a/b/c"], "a key equal to the prefix is listed");
    assert.deepEqual(await s.list("zz"), []);
    const snapshot = await s.list();
    snapshot.pop();
    assert.equal((await s.list()).length, keys.length, "list returns a fresh array");
  },
  "list handles prefix edge cases": async (h) => {
    const s = await h.open();
    const keys = ["\uffff", "\uffff\uffff", "\uffffx", "x\uffff", "x\uffffy", "\ud83d\ude00", "\ud83d\ude01", "\ue000", "y"];
    for (const k of keys) await s.set(k, 1);
    assert.deepEqual(await s.list("\uffff"), ["\uffff", "\uffffx", "\uffff\uffff"]);
    assert.deepEqual(await s.list("x\uffff"), ["x\uffff", "x\uffffy"]);
    assert.deepEqual(await s.list("\ud83d"), ["\ud83d\ude00", "\ud83d\ude01"], "a prefix may end inside a surrogate pair");
    assert.deepEqual(await s.list(), [...keys].sort(), "code-unit order: surrogates sort before U+E000");
  },
  "hostile keys stay distinct": async (h) => {
    const s = await h.open();
    for (const [i, k] of HOSTILE_KEYS.entries()) await s.set(k, i);
    for (const [i, k] of HOSTILE_KEYS.entries()) assert.equal(await s.get(k), i, JSON.stringify(k.slice(0, 40)));
    assert.deepEqual(await s.list(), [...HOSTILE_KEYS].sort());
    for (const k of HOSTILE_KEYS) assert.equal(await s.delete(k), true);
    assert.deepEqual(await s.list(), []);
  },
  "invalid keys are refused": async (h) => {
    const s = await h.open();
    const bad: unknown[] = ["", "\ud800", "a\udc00b", "\ude00\ud83d", "\u00e9".repeat(513), "x".repeat(1025), 42, null, undefined, ["a"]];
    for (const k of bad) {
      const key = k as string;
      const what = typeof k === "string" ? `key of length ${k.length}` : String(k);
      await rejectsWith(() => s.set(key, 1), "invalid_input", `set ${what}`);
      await rejectsWith(() => s.get(key), "invalid_input", `get ${what}`);
      await rejectsWith(() => s.has(key), "invalid_input", `has ${what}`);
      await rejectsWith(() => s.delete(key), "invalid_input", `delete ${what}`);
      await rejectsWith(() => s.compareAndSet(key, undefined, 1), "invalid_input", `compareAndSet ${what}`);
    }
    await rejectsWith(() => s.list(7 as unknown as string), "invalid_input", "list with a non-string prefix");
    assert.deepEqual(await s.list(), []);
  },
  "invalid values are refused": async (h) => {
    const s = await h.open();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    let deep: unknown = 1;
    for (let i = 0; i < 600; i++) deep = [deep];
    const bad: unknown[] = [undefined, NaN, Infinity, -Infinity, () => 1, Symbol("s"), 10n, new Date(0), new Map(), new Set(), { a: undefined },
      { a: NaN }, [1, undefined], cyclic, { bytes: new Uint8Array(1) }, new Uint16Array(2), new ArrayBuffer(2), new DataView(new ArrayBuffer(1)),
      [1, , 3], deep, new (class Point { x = 1 })()];
    for (const [i, v] of bad.entries()) {
      await rejectsWith(() => s.set(`k${i}`, v as StorageValue), "invalid_input", `value #${i}`);
      await rejectsWith(() => s.compareAndSet(`k${i}`, undefined, v as StorageValue), "invalid_input", `compareAndSet value #${i}`);
    }
    await rejectsWith(() => s.compareAndSet("k", NaN as unknown as StorageValue, 1), "invalid_input", "compareAndSet expected");
    await rejectsWith(() => s.compareAndSet("k", undefined, 1, { ttlMs: -1 }), "invalid_input", "negative ttl");
    await rejectsWith(() => s.compareAndSet("k", undefined, 1, { ttlMs: Number.NaN }), "invalid_input", "NaN ttl");
    assert.deepEqual(await s.list(), [], "nothing was stored");
  },
  "batch applies ops in order": async (h) => {
    const s = await h.open();
    await s.set("gone", 1);
    await s.batch([]);
    await s.batch([
      { op: "set", key: "a", value: 1 },
      { op: "set", key: "b", value: Uint8Array.from([2]) },
      { op: "delete", key: "gone" },
      { op: "set", key: "c", value: "first" },
      { op: "delete", key: "c" },
      { op: "delete", key: "d" },
      { op: "set", key: "d", value: "back" },
      { op: "set", key: "a", value: 11 },
      { op: "delete", key: "never-existed" },
    ]);
    assert.deepEqual(await s.list(), ["a", "b", "d"]);
    assert.equal(await s.get("a"), 11);
    assert.deepEqual(await s.get("b"), Uint8Array.from([2]));
    assert.equal(await s.get("d"), "back");
  },
  "batch is all or nothing": async (h) => {
    const s = await h.open();
    await s.set("a", 1);
    await s.set("b", 2);
    const head = [
      { op: "set", key: "a", value: 10 },
      { op: "delete", key: "b" },
      { op: "set", key: "c", value: 3 },
    ] as const;
    await rejectsWith(() => s.batch([...head, { op: "set", key: "", value: 1 }]), "invalid_input", "bad key midway");
    await rejectsWith(() => s.batch([...head, { op: "set", key: "x", value: NaN }, { op: "set", key: "y", value: 1 }]), "invalid_input", "bad value midway");
    await rejectsWith(() => s.batch([...head, { op: "rename", key: "x" } as never]), "invalid_input", "unknown op");
    await rejectsWith(() => s.batch([...head, null as never]), "invalid_input", "null op");
    await rejectsWith(() => s.batch("nope" as never), "invalid_input", "not an array");
    assert.deepEqual(await s.list(), ["a", "b"]);
    assert.equal(await s.get("a"), 1);
    assert.equal(await s.get("b"), 2);
  },
  "concurrent writers": async (h) => {
    const s = await h.open();
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40; i++) writes.push(s.set(`own/${i}`, i));
    for (let i = 0; i < 20; i++) writes.push(s.set("shared", i));
    for (let i = 0; i < 10; i++) writes.push(s.batch([{ op: "set", key: `pair/${i}/a`, value: i }, { op: "set", key: `pair/${i}/b`, value: i }]));
    for (let i = 0; i < 10; i++) writes.push(s.get("shared"), s.list("own/"));
    await Promise.all(writes);
    for (let i = 0; i < 40; i++) assert.equal(await s.get(`own/${i}`), i);
    assert.equal(await s.get("shared"), 19, "the last write issued wins");
    assert.equal((await s.list("pair/")).length, 20);
  },
  "operations apply in issue order": async (h) => {
    const s = await h.open();
    const a = s.set("k", 1);
    const b = s.delete("k");
    const c = s.set("k", 2);
    const d = s.get("k");
    const e = s.batch([{ op: "set", key: "k", value: 3 }]);
    const f = s.has("k");
    const g = s.compareAndSet("k", 3, 4);
    const r = await Promise.all([a, b, c, d, e, f, g]);
    assert.deepEqual(r, [undefined, true, undefined, 2, undefined, true, true]);
    assert.equal(await s.get("k"), 4);
  },
  "compareAndSet": async (h) => {
    const s = await h.open();
    assert.equal(await s.compareAndSet("k", undefined, { n: 1, m: [2] }), true, "absent → set");
    assert.equal(await s.compareAndSet("k", undefined, "x"), false, "present, expected absent");
    assert.equal(await s.compareAndSet("k", { n: 2, m: [2] }, "x"), false, "wrong expected value");
    assert.deepEqual(await s.get("k"), { n: 1, m: [2] }, "a failed compareAndSet changes nothing");
    assert.equal(await s.compareAndSet("k", { m: [2], n: 1 }, Uint8Array.from([1])), true, "object key order does not matter");
    assert.equal(await s.compareAndSet("k", Uint8Array.from([2]), 0), false, "bytes compare bytewise");
    assert.equal(await s.compareAndSet("k", Uint8Array.from([1]), null), true);
    assert.equal(await s.compareAndSet("k", undefined, 1), false, "null is a value, not absence");
    assert.equal(await s.compareAndSet("k", null, 1), true);
    await s.delete("k");
    assert.equal(await s.compareAndSet("k", 1, 2), false, "deleted key does not match its old value");
    assert.equal(await s.compareAndSet("k", undefined, 2), true, "deleted key is absent");
  },
  "compareAndSet is atomic under contention": async (h) => {
    const s = await h.open();
    await s.set("counter", 0);
    const incr = async () => {
      for (;;) {
        const cur = (await s.get("counter")) as number;
        if (await s.compareAndSet("counter", cur, cur + 1)) return;
      }
    };
    await Promise.all(Array.from({ length: 20 }, incr));
    assert.equal(await s.get("counter"), 20);
    const winners = await Promise.all(Array.from({ length: 10 }, (_, i) => s.compareAndSet("lease", undefined, `owner-${i}`, { ttlMs: 1000 })));
    assert.equal(winners.filter(Boolean).length, 1, "exactly one takes a free lease");
  },
  "compareAndSet expiry": async (h) => {
    const s = await h.open();
    assert.equal(await s.compareAndSet("lease", undefined, "a", { ttlMs: 1000 }), true);
    h.clock.advance(999);
    assert.equal(await s.get("lease"), "a");
    assert.equal(await s.compareAndSet("lease", undefined, "b", { ttlMs: 1000 }), false, "a live lease is held");
    assert.equal(await s.compareAndSet("lease", "a", "a", { ttlMs: 1000 }), true, "the holder renews");
    h.clock.advance(999);
    assert.equal(await s.has("lease"), true, "renewal moved the expiry");
    h.clock.advance(1);
    assert.equal(await s.get("lease"), undefined, "expired");
    assert.equal(await s.has("lease"), false);
    assert.deepEqual(await s.list(), []);
    assert.equal(await s.compareAndSet("lease", "a", "a"), false, "an expired value does not match");
    assert.equal(await s.compareAndSet("lease", undefined, "b", { ttlMs: 10 }), true, "an expired lease can be taken");
    await s.set("lease", "plain");
    h.clock.advance(100);
    assert.equal(await s.get("lease"), "plain", "set clears the TTL");
    await s.compareAndSet("t", undefined, 1, { ttlMs: 5 });
    await s.batch([{ op: "set", key: "t", value: 2 }]);
    h.clock.advance(10);
    assert.equal(await s.get("t"), 2, "batch set clears the TTL");
    await s.compareAndSet("d", undefined, 1, { ttlMs: 5 });
    h.clock.advance(5);
    assert.equal(await s.delete("d"), false, "deleting an expired key reports it absent");
  },
  "16 MiB value": async (h) => {
    const s = await h.open();
    const big = patternBytes(16 * 1024 * 1024, 7);
    await s.set("big", big);
    const got = await s.get("big");
    assert.ok(got instanceof Uint8Array && got.length === big.length);
    assert.ok(Buffer.compare(got, big) === 0, "16 MiB came back byte for byte");
    await s.set("big", "small now");
    assert.equal(await s.get("big"), "small now");
  },
  "reopen keeps everything": async (h) => {
    let s = await h.open();
    await s.set("json", { a: [1, "b"] });
    await s.set("bytes", patternBytes(1000));
    await s.set("gone", 1);
    await s.batch([{ op: "set", key: "b1", value: 1 }, { op: "set", key: "b2", value: 2 }, { op: "delete", key: "gone" }]);
    await s.compareAndSet("lease", undefined, "me", { ttlMs: 1000 });
    for (const k of HOSTILE_KEYS.slice(0, 12)) await s.set(k, k);
    const before = await s.list();
    await s.close();
    s = await h.open();
    assert.deepEqual(await s.list(), before);
    assert.deepEqual(await s.get("json"), { a: [1, "b"] });
    assert.deepEqual(await s.get("bytes"), patternBytes(1000));
    assert.equal(await s.get("gone"), undefined);
    assert.equal(await s.get("b2"), 2);
    for (const k of HOSTILE_KEYS.slice(0, 12)) assert.equal(await s.get(k), k);
    assert.equal(await s.get("lease"), "me", "a lease survives a reopen");
    h.clock.advance(1000);
    assert.equal(await s.get("lease"), undefined, "and still expires");
    await s.close();
    s = await h.open();
    assert.equal(await s.has("lease"), false, "an expired lease stays expired after reopen");
  },
  "closed storage refuses": async (h) => {
    const s = await h.open();
    await s.set("k", 1);
    const pending = s.set("late", 2);
    await s.close();
    await pending;
    await s.close();
    await rejectsWith(() => s.get("k"), "storage_error", "get after close");
    await rejectsWith(() => s.set("k", 2), "storage_error", "set after close");
    await rejectsWith(() => s.list(), "storage_error", "list after close");
  },
} satisfies Record<string, Case>;

export type StorageCaseName = keyof typeof cases;
export const STORAGE_CASES = Object.keys(cases) as StorageCaseName[];

/** Runs every Storage case against `make`; cases in `skip` are reported as skipped with their reason. */
export function testStorage(options: TestStorageOptions): void {
  const skipped = skipTable(STORAGE_CASES, options.skip);
  let n = 0;
  describe(`Storage conformance: ${options.name}`, () => {
    for (const name of STORAGE_CASES) {
      const reason = skipped.get(name);
      test(name, reason ? { skip: reason } : {}, async () => {
        const ctx: StorageTestContext = { clock: new ManualClock(Date.UTC(2026, 0, 1), { autoAdvance: false }), id: `case-${++n}` };
        const opened: Storage[] = [];
        const h: Harness = {
          clock: ctx.clock,
          open: async () => {
            const s = await options.make(ctx);
            opened.push(s);
            return s;
          },
        };
        try {
          await cases[name](h);
        } finally {
          for (const s of opened) await s.close().catch(() => {});
        }
      });
    }
  });
}
