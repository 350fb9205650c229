/** JSON with object keys sorted at every depth: equal values give equal strings (cache keys, hashes). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortDeep(value)) ?? "null";
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v && typeof v === "object" && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortDeep(x);
    }
    return out;
  }
  return v;
}

/**
 * A deep copy of a JSON-like value. Plain objects and arrays are copied directly (much cheaper
 * than structuredClone for the small values on the hot path); anything else (Uint8Array, Date,
 * Map…) goes through structuredClone.
 */
export function cloneValue<T>(v: T): T {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k in v) out[k] = cloneValue((v as Record<string, unknown>)[k]);
  return out as T;
}

/** Structural equality of JSON-like values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
