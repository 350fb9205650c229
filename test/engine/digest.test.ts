import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson } from "../../src/index.ts";
import { paramsDigest } from "../../src/engine/digest.ts";

/** The digest as first defined: FNV-1a 64 in BigInt over the canonical JSON's UTF-16 code units. */
function reference(value: unknown): string {
  const s = canonicalJson(value);
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

test("paramsDigest equals the FNV-1a 64 definition on varied values (recorded digests stay comparable)", () => {
  const values: unknown[] = [{}, [], null, "", { n: 1 }, { b: 2, a: [1, "x", null] }, "ünïcödé ✓ 𝄞", { deep: { er: { est: [{ k: "v".repeat(300) }] } } }];
  for (let i = 0; i < 200; i++) {
    const chars = Array.from({ length: i % 37 }, (_, j) => String.fromCharCode((i * 7919 + j * 104729) % 0xffff));
    values.push({ i, s: chars.join(""), f: i / 7 });
  }
  for (const v of values) assert.equal(paramsDigest(v), reference(v), JSON.stringify(v));
  assert.equal(paramsDigest({ a: 1, b: 2 }), paramsDigest({ b: 2, a: 1 }));
  assert.notEqual(paramsDigest({ a: 1 }), paramsDigest({ a: 2 }));
});
