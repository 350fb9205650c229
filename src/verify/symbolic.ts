import { canonicalJson } from "../engine/canonical-json.ts";
import { UnresolvedReference, parseWholeReference, replaceReferences, walkPath } from "../engine/references.ts";

/**
 * A value in the symbolic state. `value` is what is shown (a reference template such as
 * `"$a.output"` where the value is only known at run time); `term` identifies an unknown value
 * structurally (symbolic mode only), so two proposals can be compared without their action ids.
 */
export interface SymValue {
  value: unknown;
  known: boolean;
  term?: string;
}

/** Interns canonical strings as short terms `#n`; shared by the walks `equivalent` compares. */
export class Interner {
  private readonly table = new Map<string, string>();
  /** The term of `s`, the same for equal strings. */
  term(s: string): string {
    let t = this.table.get(s);
    if (t === undefined) {
      t = `#${this.table.size}`;
      this.table.set(s, t);
    }
    return t;
  }
}

/** Looks up the output of the action with this id (undefined when unknown, not yet run, or blocked). */
export type OutputLookup = (id: string) => SymValue | undefined;

/**
 * Resolves `$<id>.output[.path]` references in `value` against known outputs, as the engine would.
 * Unknown outputs keep their template text and make the result unknown; with an interner the
 * result also gets a structural term.
 */
export function resolveSym(value: unknown, outputOf: OutputLookup, interner?: Interner): SymValue {
  const r = resolve(value, outputOf, interner !== undefined);
  if (r.known) return { value: r.value, known: true };
  return interner ? { value: r.value, known: false, term: interner.term(canonicalJson(r.sym)) } : { value: r.value, known: false };
}

/** A known value as a SymValue. */
export function knownValue(value: unknown): SymValue {
  return { value, known: true };
}

/** The output of a tool call: never known statically; its term names the tool and (symbolic) parameters. */
export function toolOutput(tool: string, parameters: unknown, outputOf: OutputLookup, interner?: Interner): SymValue {
  if (!interner) return { value: null, known: false };
  const p = resolve(parameters, outputOf, true);
  return { value: null, known: false, term: interner.term(`call:${tool}:${canonicalJson(p.sym)}`) };
}

/** Canonical comparison key of a SymValue (terms need the same interner on both sides). */
export function compareKey(v: SymValue): string {
  return v.known ? `=${canonicalJson(v.value)}` : `?${v.term ?? canonicalJson(v.value)}`;
}

interface Resolved {
  value: unknown;
  known: boolean;
  /** Symbolic form: known parts as they are, unknown references as `{ $sym: "#n.path" }`. */
  sym: unknown;
}

function resolve(value: unknown, outputOf: OutputLookup, symbolic: boolean): Resolved {
  if (typeof value === "string") return resolveString(value, outputOf, symbolic);
  if (Array.isArray(value)) {
    let known = true;
    const out: unknown[] = new Array(value.length);
    const sym: unknown[] = symbolic ? new Array(value.length) : [];
    for (let i = 0; i < value.length; i++) {
      const r = resolve(value[i], outputOf, symbolic);
      out[i] = r.value;
      if (symbolic) sym[i] = r.sym;
      known &&= r.known;
    }
    return { value: out, known, sym };
  }
  if (value !== null && typeof value === "object") {
    let known = true;
    const out: Record<string, unknown> = {};
    const sym: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = resolve(v, outputOf, symbolic);
      out[k] = r.value;
      if (symbolic) sym[k] = r.sym;
      known &&= r.known;
    }
    return { value: out, known, sym };
  }
  return { value, known: true, sym: value };
}

function symRef(out: SymValue | undefined, id: string, path: string): string {
  return `${out?.term ?? `?${id}`}${path}`;
}

function resolveString(s: string, outputOf: OutputLookup, symbolic: boolean): Resolved {
  if (!s.includes("$")) return { value: s, known: true, sym: s };
  const whole = parseWholeReference(s);
  if (whole) {
    const out = outputOf(whole.id);
    if (out?.known) {
      try {
        const v = walkPath(out.value, whole.path, s);
        return { value: v, known: true, sym: v };
      } catch (err) {
        if (!(err instanceof UnresolvedReference)) throw err;
      }
    }
    return { value: s, known: false, sym: { $sym: symRef(out, whole.id, whole.path) } };
  }
  let known = true;
  const parts: string[] = [];
  const text = replaceReferences(s, (id, path, ref) => {
    const out = outputOf(id);
    if (out?.known) {
      try {
        const v = walkPath(out.value, path, ref);
        const str = typeof v === "string" ? v : JSON.stringify(v);
        if (symbolic) parts.push(str);
        return str;
      } catch (err) {
        if (!(err instanceof UnresolvedReference)) throw err;
      }
    }
    known = false;
    if (symbolic) parts.push(`⟦${symRef(out, id, path)}⟧`);
    return ref;
  });
  if (known) return { value: text, known: true, sym: text };
  // The symbolic text: rebuild with known parts substituted and unknown ones as ⟦term⟧.
  let i = 0;
  const sym = symbolic ? replaceReferences(s, () => parts[i++]!) : null;
  return { value: text, known: false, sym: { $symtext: sym } };
}
