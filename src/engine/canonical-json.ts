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

/** A deep copy of a JSON-like value (structuredClone keeps Uint8Array and Dates intact). */
export function cloneValue<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** Structural equality of JSON-like values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
