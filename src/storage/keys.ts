import { CarError } from "../errors.ts";

/** Longest key every adapter accepts, in UTF-8 bytes. Longer keys are refused, never truncated. */
export const MAX_KEY_BYTES = 1024;

/** UTF-8 length of a well-formed string, without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Whether `s` has no lone surrogate, so its UTF-8 encoding is injective. */
export function isWellFormed(s: string): boolean {
  const native = (s as { isWellFormed?: () => boolean }).isWellFormed;
  if (typeof native === "function") return native.call(s);
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/**
 * Refuses what no adapter can store faithfully: a key must be a non-empty, well-formed string of at
 * most MAX_KEY_BYTES UTF-8 bytes. Anything else (`/`, `..`, NUL, any code point) is a valid key.
 */
export function checkKey(key: unknown, component: string): asserts key is string {
  if (typeof key !== "string") throw new CarError("invalid_input", component, `key must be a string, got ${typeof key}`);
  if (key.length === 0) throw new CarError("invalid_input", component, "key must not be empty");
  if (!isWellFormed(key)) throw new CarError("invalid_input", component, "key contains a lone surrogate (not well-formed Unicode)");
  const bytes = utf8Length(key);
  if (bytes > MAX_KEY_BYTES) {
    throw new CarError("invalid_input", component, `key is ${bytes} UTF-8 bytes; the limit is ${MAX_KEY_BYTES}`, { key_bytes: bytes, limit: MAX_KEY_BYTES });
  }
}

/** A `list` prefix: any string, including the empty one. */
export function checkPrefix(prefix: unknown, component: string): asserts prefix is string {
  if (typeof prefix !== "string") throw new CarError("invalid_input", component, `prefix must be a string, got ${typeof prefix}`);
}

/** Keys in ascending UTF-16 code-unit order, the order every `list` returns. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Checks a `ttlMs` option: a positive finite number of milliseconds. */
export function checkTtl(ttlMs: unknown, component: string): asserts ttlMs is number | undefined {
  if (ttlMs === undefined) return;
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new CarError("invalid_input", component, `ttlMs must be a positive finite number of milliseconds, got ${String(ttlMs)}`);
  }
}
