import type { Precondition } from "../ir/precondition.ts";
import { jsonEqual } from "./canonical-json.ts";

/** Read access to state, as preconditions need it. */
export interface StateReader {
  get(key: string): unknown;
  exists(key: string): boolean;
}

/** Whether `p` holds in `state` (reference §2.3). Unknown operators and non-numeric comparisons are false. */
export function checkPrecondition(p: Precondition, state: StateReader): boolean {
  const exists = state.exists(p.key);
  const actual = exists ? state.get(p.key) : null;
  switch (p.operator) {
    case "eq":
      return jsonEqual(actual, p.value);
    case "neq":
      return !jsonEqual(actual, p.value);
    case "gt":
    case "lt":
    case "gte":
    case "lte": {
      if (typeof actual !== "number" || typeof p.value !== "number" || Number.isNaN(actual) || Number.isNaN(p.value)) return false;
      if (p.operator === "gt") return actual > p.value;
      if (p.operator === "lt") return actual < p.value;
      if (p.operator === "gte") return actual >= p.value;
      return actual <= p.value;
    }
    case "exists":
      return exists;
    case "not_exists":
      return !exists;
    case "contains":
      if (typeof actual === "string") return typeof p.value === "string" && actual.includes(p.value);
      if (Array.isArray(actual)) return actual.some((x) => jsonEqual(x, p.value));
      return false;
    default:
      return false;
  }
}

/** A human-readable form such as `balance gte 10`, used in error messages. */
export function describePrecondition(p: Precondition): string {
  if (p.description) return p.description;
  if (p.operator === "exists" || p.operator === "not_exists") return `${p.key} ${p.operator}`;
  return `${p.key} ${p.operator} ${JSON.stringify(p.value)}`;
}
