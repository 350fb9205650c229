/**
 * The part of `node:assert/strict` the storage conformance cases use, for running them in a
 * browser page. `deepEqual` follows Node's deepStrictEqual for the values those cases compare
 * (primitives by Object.is, same prototypes, arrays, plain objects, typed arrays, Date);
 * assert-shim.test.ts checks it against Node's own on a table of cases.
 */
export class AssertionError extends Error {
  override name = "AssertionError";
}

function fail(message: string | undefined, fallback: string): never {
  throw new AssertionError(message ? `${message} (${fallback})` : fallback);
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.constructor.name}(${v.length})[${Array.from(v.subarray(0, 16)).join(",")}${v.length > 16 ? ",…" : ""}]`;
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "symbol" || typeof v === "function") return String(v);
  if (Object.is(v, -0)) return "-0";
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return String(v);
    return s.length > 200 ? s.slice(0, 200) + "…" : s;
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** Node's deepStrictEqual for primitives, arrays, plain and class objects, typed arrays, Date, Map and Set of primitives. */
export function isDeepStrictEqual(a: unknown, b: unknown, seen = new Map<object, object>()): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Object.prototype.toString.call(a) !== Object.prototype.toString.call(b)) return false;
  if (seen.get(a) === b) return true;
  seen.set(a, b);
  if (ArrayBuffer.isView(a)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array((b as ArrayBufferView).buffer, (b as ArrayBufferView).byteOffset, (b as ArrayBufferView).byteLength);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true; // (extra properties on a typed array are not compared)
  } else if (a instanceof Date) {
    if (a.getTime() !== (b as Date).getTime()) return false;
  } else if (a instanceof Map || a instanceof Set) {
    const bb = b as Map<unknown, unknown> | Set<unknown>;
    if (a.size !== bb.size) return false;
    for (const [k, v] of a.entries()) if (!bb.has(k) || !isDeepStrictEqual(v, a instanceof Map ? (bb as Map<unknown, unknown>).get(k) : k, seen)) return false;
  } else if (Array.isArray(a) && a.length !== (b as unknown[]).length) {
    return false;
  }
  const ka = ownKeys(a);
  const kb = ownKeys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.propertyIsEnumerable.call(b, k)) return false;
    if (!isDeepStrictEqual((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k], seen)) return false;
  }
  return true;
}

function ownKeys(o: object): PropertyKey[] {
  return Reflect.ownKeys(o).filter((k) => Object.prototype.propertyIsEnumerable.call(o, k));
}

function ok(value: unknown, message?: string): asserts value {
  if (!value) fail(message, `expected a truthy value, got ${show(value)}`);
}

function equal(actual: unknown, expected: unknown, message?: string): void {
  if (!Object.is(actual, expected)) fail(message, `${show(actual)} !== ${show(expected)}`);
}

function notEqual(actual: unknown, expected: unknown, message?: string): void {
  if (Object.is(actual, expected)) fail(message, `${show(actual)} === ${show(expected)}`);
}

function deepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (!isDeepStrictEqual(actual, expected)) fail(message, `not deep-equal:\n  actual   ${show(actual)}\n  expected ${show(expected)}`);
}

function notDeepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (isDeepStrictEqual(actual, expected)) fail(message, `unexpectedly deep-equal: ${show(actual)}`);
}

async function rejects(promiseOrFn: Promise<unknown> | (() => Promise<unknown>), check?: RegExp | ((e: unknown) => boolean), message?: string): Promise<void> {
  try {
    await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
  } catch (err) {
    if (check instanceof RegExp && !check.test(String((err as Error)?.message ?? err))) fail(message, `rejection ${show(String(err))} does not match ${check}`);
    if (typeof check === "function" && check(err) !== true) fail(message, `rejection ${String(err)} failed the check`);
    return;
  }
  fail(message, "expected a rejection");
}

function throws(fn: () => unknown, check?: RegExp | ((e: unknown) => boolean), message?: string): void {
  try {
    fn();
  } catch (err) {
    if (check instanceof RegExp && !check.test(String((err as Error)?.message ?? err))) fail(message, `error ${show(String(err))} does not match ${check}`);
    if (typeof check === "function" && check(err) !== true) fail(message, `error ${String(err)} failed the check`);
    return;
  }
  fail(message, "expected an exception");
}

const assert = Object.assign((value: unknown, message?: string) => ok(value, message), { ok, equal, notEqual, deepEqual, notDeepEqual, strictEqual: equal, deepStrictEqual: deepEqual, rejects, throws, AssertionError });
export default assert;
export { ok, equal, notEqual, deepEqual, notDeepEqual, rejects, throws };
