import type { z } from "zod";
import { ValidationError, type CarErrorCode } from "../errors.ts";

/** Formats a zod issue path as `actions[2].parameters.key`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

/** Parses `input` with `schema`, throwing a ValidationError whose issues name each bad field's path. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string, component = "ir", code: CarErrorCode = "invalid_input"): z.infer<S> {
  const res = schema.safeParse(input);
  if (res.success) return res.data;
  const issues = res.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  throw new ValidationError(component, what, issues, code);
}
