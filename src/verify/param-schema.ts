import { Validator, type OutputUnit, type Schema, type SchemaDraft } from "@cfworker/json-schema";
import { messageOf } from "../errors.ts";
import { parseWholeReference } from "../engine/references.ts";

/**
 * JSON Schema validation of tool parameters with @cfworker/json-schema (no eval/new Function, so it
 * runs in browsers, Deno, Bun and edge workers). Values that are `$<id>.output` references are only
 * known at run time, so violations at (or under) them are not reported.
 */

const validators = new WeakMap<object, Validator | Error>();

/** Keywords whose own error only says "a subschema failed": the subschema's errors say what. */
const CONTAINERS = new Set([
  "properties", "patternProperties", "additionalProperties", "items", "prefixItems", "additionalItems", "unevaluatedItems",
  "unevaluatedProperties", "$ref", "$recursiveRef", "$dynamicRef", "allOf", "dependentSchemas", "dependencies", "if", "then", "else",
  "propertyNames", "contains",
]);

function draftOf(schema: Record<string, unknown>): SchemaDraft {
  const s = typeof schema["$schema"] === "string" ? schema["$schema"] : "";
  if (s.includes("draft-04")) return "4";
  if (s.includes("draft-06") || s.includes("draft-07")) return "7";
  if (s.includes("2020-12")) return "2020-12";
  return "2019-09";
}

function validatorFor(schema: Record<string, unknown>): Validator | Error {
  let v = validators.get(schema);
  if (v === undefined) {
    try {
      v = new Validator(schema as Schema, draftOf(schema), false);
    } catch (err) {
      v = new Error(messageOf(err));
    }
    validators.set(schema, v);
  }
  return v;
}

/** Result of checking one action's parameters. */
export type ParamCheck = { ok: true } | { ok: false; violations: string[] } | { unusable: string };

/** Validates `params` against a tool's `parameters` schema; `unusable` when the schema itself is broken (bad $ref, bad pattern…). */
export function checkParams(schema: Record<string, unknown>, params: Record<string, unknown>): ParamCheck {
  const v = validatorFor(schema);
  if (v instanceof Error) return { unusable: v.message };
  let res: { valid: boolean; errors: OutputUnit[] };
  try {
    res = v.validate(params);
  } catch (err) {
    return { unusable: messageOf(err).split("\n")[0]! };
  }
  if (res.valid) return { ok: true };
  const refs = referenceLocations(params);
  const errors = res.errors.filter((e) => !underReference(segments(e.instanceLocation), refs));
  // Branch errors of anyOf/oneOf are noise next to "does not match any subschema".
  const branches = errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf").map((e) => e.keywordLocation + "/");
  const out: string[] = [];
  for (const e of errors) {
    if (CONTAINERS.has(e.keyword)) continue;
    if (branches.some((b) => e.keywordLocation.startsWith(b))) continue;
    const msg = e.keyword === "false" ? "is not allowed." : e.error;
    out.push(`${formatLocation(segments(e.instanceLocation))}: ${msg}`);
  }
  return out.length > 0 ? { ok: false, violations: [...new Set(out)] } : { ok: true };
}

function segments(location: string): string[] {
  const body = location.replace(/^#\/?/, "");
  if (!body) return [];
  return body.split("/").map((s) => safeDecode(s).replace(/~1/g, "/").replace(/~0/g, "~"));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function formatLocation(segs: string[]): string {
  let out = "parameters";
  for (const s of segs) out += /^\d+$/.test(s) ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  return out;
}

/** Paths (JSON-encoded segment arrays) of strings holding references. */
function referenceLocations(value: unknown, path: string[] = [], out = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    if (value.includes("$") && (parseWholeReference(value) || /\$[A-Za-z0-9_\-:]+\.output/.test(value))) out.add(JSON.stringify(path));
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => referenceLocations(v, [...path, String(i)], out));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) referenceLocations(v, [...path, k], out);
  }
  return out;
}

function underReference(segs: string[], refs: Set<string>): boolean {
  if (refs.size === 0) return false;
  for (let i = 0; i <= segs.length; i++) if (refs.has(JSON.stringify(segs.slice(0, i)))) return true;
  return false;
}
