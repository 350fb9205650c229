import { CarError } from "../errors.ts";
import type { JsonValue } from "../ir/json.ts";
import type { StorageValue } from "./storage.ts";
import { checkKey, checkTtl } from "./keys.ts";

/** Deepest JSON nesting a value may have; deeper values are refused rather than overflowing the stack. */
export const MAX_JSON_DEPTH = 512;

const TAG_JSON = 1;
const TAG_BYTES = 2;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Refuses anything that would not come back unchanged: JSON values must be plain (finite numbers,
 * plain objects, dense arrays, no `undefined`, no cycles); bytes must be a top-level Uint8Array.
 * With `dropUndefined`, object properties holding `undefined` are allowed (and left out when encoded).
 */
export function checkValue(value: unknown, component: string, options: { dropUndefined?: boolean } = {}): asserts value is StorageValue {
  if (value instanceof Uint8Array) return;
  const problem = jsonProblem(value, "$", 0, new Set(), options.dropUndefined === true);
  if (problem) throw new CarError("invalid_input", component, `value is not storable: ${problem}`);
}

function jsonProblem(v: unknown, path: string, depth: number, ancestors: Set<object>, dropUndefined: boolean): string | undefined {
  if (depth > MAX_JSON_DEPTH) return `${path} nests deeper than ${MAX_JSON_DEPTH}`;
  switch (typeof v) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(v) ? undefined : `${path} is ${v} (not a finite number)`;
    case "object":
      break;
    default:
      return `${path} is a ${typeof v}`;
  }
  if (v === null) return undefined;
  if (ancestors.has(v)) return `${path} is a cycle`;
  ancestors.add(v);
  try {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) return `${path}[${i}] is a hole`;
        const p = jsonProblem(v[i], `${path}[${i}]`, depth + 1, ancestors, dropUndefined);
        if (p) return p;
      }
      return undefined;
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      const name = (v as { constructor?: { name?: string } }).constructor?.name ?? "object";
      return `${path} is a ${name}${v instanceof Uint8Array ? " (bytes are only storable as the whole value)" : ""}`;
    }
    for (const [k, x] of Object.entries(v)) {
      // JSON.stringify leaves such properties out, which readers of optional fields cannot tell apart.
      if (x === undefined && dropUndefined) continue;
      const p = jsonProblem(x, `${path}.${k}`, depth + 1, ancestors, dropUndefined);
      if (p) return p;
    }
    return undefined;
  } finally {
    ancestors.delete(v);
  }
}

/** A self-describing byte form of a checked value: one tag byte (JSON or bytes), then the payload. */
export function encodeValue(value: StorageValue): Uint8Array {
  if (value instanceof Uint8Array) {
    const out = new Uint8Array(value.length + 1);
    out[0] = TAG_BYTES;
    out.set(value, 1);
    return out;
  }
  const text = encoder.encode(JSON.stringify(value));
  const out = new Uint8Array(text.length + 1);
  out[0] = TAG_JSON;
  out.set(text, 1);
  return out;
}

/** Where an encoded value was read from, for the error when it does not decode. */
export interface ValueSource {
  component: string;
  file?: string;
  offset?: number;
  key?: string;
}

/** Inverse of `encodeValue`; anything else is `corrupted`. Returns a fresh copy. */
export function decodeValue(bytes: Uint8Array, source: ValueSource): StorageValue {
  const tag = bytes[0];
  if (tag === TAG_BYTES) return copyBytes(bytes.subarray(1));
  if (tag === TAG_JSON) {
    try {
      return JSON.parse(decoder.decode(bytes.subarray(1))) as JsonValue;
    } catch (err) {
      throw corruptedValue(source, "its JSON does not parse", err);
    }
  }
  throw corruptedValue(source, `unknown value tag ${String(tag)}`);
}

function corruptedValue(source: ValueSource, why: string, cause?: unknown): CarError {
  const where = [source.key !== undefined ? `key ${JSON.stringify(source.key)}` : "", source.file ? `file ${source.file}` : "", source.offset !== undefined ? `offset ${source.offset}` : ""]
    .filter(Boolean)
    .join(", ");
  return new CarError("corrupted", source.component, `stored value is corrupted (${where}): ${why}`, { file: source.file, offset: source.offset, key: source.key }, { cause });
}

/** Equality for compareAndSet: bytes compare bytewise, JSON compares structurally (object key order ignored). */
export function valuesEqual(a: StorageValue | undefined, b: StorageValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return jsonEqual(a, b);
}

function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEqual(x, b[i]!));
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k]!, b[k]!));
}

/**
 * A byte-for-byte copy as a plain Uint8Array, so callers never share buffers with a store.
 * (`Buffer#slice` would return a view, and `Uint8Array#slice` on a Buffer returns a Buffer.)
 */
export function copyBytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}

/** Validates every argument of `Storage.compareAndSet` the same way in every adapter. */
export function checkCompareAndSet(key: unknown, expected: unknown, value: unknown, ttlMs: unknown, component: string): void {
  checkKey(key, component);
  if (expected !== undefined) checkValue(expected, component);
  checkValue(value, component);
  checkTtl(ttlMs, component);
}
