/**
 * `$<id>.output[.path]` references inside action parameters. A string that is exactly one
 * reference is replaced by the referenced value (any type); references embedded in longer
 * strings are interpolated as text.
 */

const REF = /\$([A-Za-z0-9_\-:]+)\.output((?:\.[A-Za-z0-9_\-]+)*)/g;
const WHOLE = /^\$([A-Za-z0-9_\-:]+)\.output((?:\.[A-Za-z0-9_\-]+)*)$/;

/** Ids of every action referenced anywhere inside `value`. */
export function referencedIds(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    if (value.includes("$")) for (const m of value.matchAll(REF)) out.add(m[1]!);
  } else if (Array.isArray(value)) {
    for (const v of value) referencedIds(v, out);
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) referencedIds(v, out);
  }
  return out;
}

/** Thrown when a reference cannot be resolved. */
export class UnresolvedReference extends Error {}

/** Replaces references in `value` using `outputOf(id)` (which throws UnresolvedReference when unknown). */
export function resolveReferences(value: unknown, outputOf: (id: string) => unknown): unknown {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    if (whole) return walkPath(outputOf(whole[1]!), whole[2]!, value);
    if (!value.includes("$")) return value;
    return value.replace(REF, (ref, id: string, path: string) => {
      const v = walkPath(outputOf(id), path, ref);
      return typeof v === "string" ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, outputOf));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveReferences(v, outputOf);
    return out;
  }
  return value;
}

/** The `{ id, path }` of a string that is exactly one reference (path like `.a.b`, or ""), else undefined. */
export function parseWholeReference(value: string): { id: string; path: string } | undefined {
  const m = WHOLE.exec(value);
  return m ? { id: m[1]!, path: m[2]! } : undefined;
}

/** Replaces every reference embedded in `value` with `replace(id, path, ref)`. */
export function replaceReferences(value: string, replace: (id: string, path: string, ref: string) => string): string {
  return value.replace(REF, (ref, id: string, path: string) => replace(id, path, ref));
}

/** Follows `.a.0.b` into `root`; throws UnresolvedReference when a field is missing. */
export function walkPath(root: unknown, path: string, ref: string): unknown {
  let cur = root;
  for (const seg of path.split(".").slice(1)) {
    if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
    else if (cur && typeof cur === "object" && Object.prototype.hasOwnProperty.call(cur, seg)) cur = (cur as Record<string, unknown>)[seg];
    else throw new UnresolvedReference(`unresolved reference ${ref}: no field "${seg}"`);
  }
  return cur === undefined ? null : cur;
}
