/**
 * One error hierarchy for the whole runtime. Every error carries a stable
 * machine-readable `code`; the wire layer maps codes to JSON-RPC error codes.
 */

/** Stable error codes. Never rename one: clients match on them. */
export type CarErrorCode =
  | "invalid_input"
  | "invalid_proposal"
  | "proposal_rejected"
  | "unknown_tool"
  | "tool_error"
  | "timeout"
  | "canceled"
  | "not_found"
  | "conflict"
  | "policy_violation"
  | "capability_denied"
  | "budget_exceeded"
  | "storage_error"
  | "corrupted"
  | "locked"
  | "auth_required"
  | "auth_failed"
  | "unsupported"
  | "overloaded"
  | "unavailable"
  | "internal";

/** Base class of every error thrown by car-server. */
export class CarError extends Error {
  readonly code: CarErrorCode;
  /** The component that raised it, e.g. `engine`, `storage:fs`. */
  readonly component: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: CarErrorCode, component: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(`[car:${component}] ${message}`, options);
    this.name = "CarError";
    this.code = code;
    this.component = component;
    this.details = details;
  }

  /** A plain object for logs and the wire. */
  toJSON(): { code: CarErrorCode; component: string; message: string; details?: Record<string, unknown> } {
    return { code: this.code, component: this.component, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** Input that does not match a schema; `issues` name the path of each bad field. */
export class ValidationError extends CarError {
  readonly issues: ReadonlyArray<{ path: string; message: string }>;
  constructor(component: string, what: string, issues: ReadonlyArray<{ path: string; message: string }>, code: CarErrorCode = "invalid_input") {
    const summary = issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ");
    super(code, component, `invalid ${what}: ${summary}`, { issues });
    this.name = "ValidationError";
    this.issues = issues;
  }
}

/** A proposal refused as a whole before anything ran (cycle, unknown dependency, duplicate id…). */
export class ProposalRejectedError extends CarError {
  readonly reason: "cycle" | "unknown_dependency" | "duplicate_id" | "halted" | "budget" | "capability" | "policy";
  constructor(reason: ProposalRejectedError["reason"], message: string, details?: Record<string, unknown>) {
    super("proposal_rejected", "engine", message, { reason, ...details });
    this.name = "ProposalRejectedError";
    this.reason = reason;
  }
}

/** Anything that stopped because a signal was aborted. Messages start with `canceled:`. */
export class CanceledError extends CarError {
  constructor(component: string, reason: string) {
    super("canceled", component, `canceled: ${reason}`);
    this.name = "CanceledError";
  }
}

/** An operation that exceeded its deadline. */
export class TimeoutError extends CarError {
  readonly timeoutMs: number;
  constructor(component: string, what: string, timeoutMs: number) {
    super("timeout", component, `timeout: ${what} exceeded ${timeoutMs} ms`, { timeout_ms: timeoutMs });
    this.name = "TimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/** The plain message of any thrown value, without the component prefix. */
export function messageOf(err: unknown): string {
  if (err instanceof CarError) return err.message.replace(/^\[car:[^\]]*\] /, "");
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/**
 * Thrown by a tool to fail-stop: the proposal aborts and rolls back, the action is marked
 * `terminal`, and the runtime refuses further proposals until `clearHalt()`.
 */
export class TerminalToolError extends CarError {
  constructor(message: string) {
    super("tool_error", "tool", message, { terminal: true });
    this.name = "TerminalToolError";
  }
}
