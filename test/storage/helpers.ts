import assert from "node:assert/strict";
import { CarError, type CarErrorCode } from "../../src/errors.ts";

/** Asserts that `fn` rejects (or throws) a CarError with `code`; returns it. */
export async function rejectsWith(fn: () => unknown, code: CarErrorCode, what = ""): Promise<CarError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected a CarError ${code}${what ? ` (${what})` : ""}, but nothing was thrown`);
  assert.ok(caught instanceof CarError, `expected a CarError ${code}${what ? ` (${what})` : ""}, got ${String(caught)}`);
  assert.equal(caught.code, code, `${what}: ${caught.message}`);
  return caught;
}

/** Deterministic bytes for sizes and seeds. */
export function patternBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Case names to skip, each with its reason; unknown names are an error so a typo cannot skip silently. */
export function skipTable<N extends string>(all: readonly N[], skip: ReadonlyArray<{ reason: string; cases: readonly N[] }> | undefined): Map<N, string> {
  const out = new Map<N, string>();
  for (const { reason, cases } of skip ?? []) {
    if (!reason) throw new Error("every skipped case needs a reason");
    for (const c of cases) {
      if (!all.includes(c)) throw new Error(`unknown case to skip: ${c}`);
      out.set(c, reason);
    }
  }
  return out;
}

/** Keys that try to reach outside a directory or collide after naive encoding. */
export const HOSTILE_KEYS: readonly string[] = [
  "..", ".", "../x", "../../../../../../etc/passwd", "/", "/abs/path", "a/../../b", "a/b/c", "\\", "..\\..\\win", "C:\\x",
  "\u0000", "a\u0000b", "con", "CON", "nul", "aux.txt", "k", "h" + "0".repeat(64), "%2e%2e", "k%2e", "%", "%%", "~", " ", " lead",
  "trail ", "trail.", "a:b", '?*<>|"', "\n\r\t", "LOCK", "FORMAT", "BATCH", "data", "tmp", "tmp/x", "data/../LOCK", "\u202e",
  "\u00e9", "e\u0301", "x".repeat(300), "/".repeat(1024), "\u00e9".repeat(512), "\ud83d\ude00".repeat(256),
];
