import type { Event } from "../ir/event.ts";
import type { ActionResult, CostSummary } from "../ir/results.ts";
import type { Violation } from "./hooks.ts";

/** A recorded tool outcome of one attempt. */
export type RecordedOutcome = { ok: true; output: unknown } | { ok: false; error: string; errorClass: string };

/** Everything the log says about one run of one proposal. */
export interface RecordedRun {
  proposal_id: string;
  /** The normalized proposal as received. */
  proposal: { id?: string; actions: Array<{ id: string; type: string; tool?: string }> } & Record<string, unknown>;
  /** Violations that rejected the whole proposal at admission. */
  admission: Violation[] | undefined;
  /** Results rebuilt from the action events, by action id. */
  results: Map<string, ActionResult>;
  /** The recorded CostSummary (absent when the log stops mid-run). */
  cost: CostSummary | undefined;
  /** Tool outcomes by `action \0 attempt`. */
  outcomes: Map<string, RecordedOutcome>;
  /** Digest of the resolved parameters of each attempt, by `action \0 attempt`. */
  paramsDigests: Map<string, string>;
  /** Guard decisions by action id (rejections and budget skips). */
  guards: Map<string, Violation[]>;
  /** `action_deduplicated` data by `action \0 attempt`. */
  dedups: Map<string, Record<string, unknown>>;
  /** State changes each action made (logged just before its success). */
  changes: Map<string, Record<string, unknown>>;
}

/** Key of one attempt of one action. */
export const attemptKey = (actionId: string | undefined, attempt: unknown) => `${actionId}\u0000${String(attempt)}`;

/** Splits a log into recorded runs, in the order the proposals were received. */
export function recordedRuns(events: readonly Event[]): RecordedRun[] {
  const runs: RecordedRun[] = [];
  const current = new Map<string, RecordedRun>();
  for (const e of events) {
    if (e.kind === "proposal_received" && e.proposal_id !== undefined && e.data["proposal"]) {
      const run: RecordedRun = {
        proposal_id: e.proposal_id,
        proposal: e.data["proposal"] as RecordedRun["proposal"],
        admission: undefined,
        results: new Map(),
        cost: undefined,
        outcomes: new Map(),
        paramsDigests: new Map(),
        guards: new Map(),
        dedups: new Map(),
        changes: new Map(),
      };
      runs.push(run);
      current.set(e.proposal_id, run);
      continue;
    }
    const run = e.proposal_id === undefined ? undefined : current.get(e.proposal_id);
    if (run) fold(run, e);
  }
  return runs;
}

function fold(run: RecordedRun, e: Event): void {
  const d = e.data;
  const id = e.action_id;
  const result = (status: ActionResult["status"], fields: Partial<ActionResult>) => {
    if (id === undefined) return;
    run.results.set(id, {
      action_id: id,
      status,
      output: fields.output ?? null,
      error: fields.error ?? null,
      state_changes: status === "succeeded" ? (run.changes.get(id) ?? {}) : {},
      duration_ms: typeof d["duration_ms"] === "number" ? d["duration_ms"] : 0,
      timestamp: e.timestamp,
      ...(fields.terminal ? { terminal: true as const } : {}),
    });
  };
  switch (e.kind) {
    case "action_executing":
      if (typeof d["params_digest"] === "string") run.paramsDigests.set(attemptKey(id, d["attempt"]), d["params_digest"]);
      break;
    case "action_succeeded":
      run.outcomes.set(attemptKey(id, d["attempt"]), { ok: true, output: d["output"] ?? null });
      result("succeeded", { output: d["output"] ?? null });
      break;
    case "action_retrying":
      run.outcomes.set(attemptKey(id, Number(d["attempt"]) - 1), { ok: false, error: String(d["error"] ?? "tool error"), errorClass: String(d["error_class"] ?? "tool_error") });
      break;
    case "action_failed":
      run.outcomes.set(attemptKey(id, d["attempt"]), { ok: false, error: String(d["error"] ?? "tool error"), errorClass: String(d["error_class"] ?? "tool_error") });
      result("failed", { error: String(d["error"] ?? ""), ...(d["terminal"] === true ? { terminal: true as const } : {}) });
      break;
    case "action_rejected":
      if (id !== undefined && d["admission"] !== true) run.guards.set(id, violationsOf(d, "reject"));
      result("rejected", { error: String(d["reason"] ?? "rejected") });
      break;
    case "action_skipped":
      if (id !== undefined && Array.isArray(d["violations"])) run.guards.set(id, violationsOf(d, "skip"));
      result("skipped", { error: String(d["reason"] ?? "skipped") });
      break;
    case "action_deduplicated":
      run.dedups.set(attemptKey(id, d["attempt"]), d);
      break;
    case "state_changed":
      if (id !== undefined) run.changes.set(id, { ...run.changes.get(id), ...((d["changes"] ?? {}) as Record<string, unknown>) });
      break;
    case "state_rollback":
      for (const a of (d["rolled_back"] as string[] | undefined) ?? []) {
        const r = run.results.get(a);
        if (r) r.rolled_back = true;
      }
      break;
    case "proposal_completed":
      if (d["cost"]) run.cost = d["cost"] as CostSummary;
      if (d["status"] === "rejected" && Array.isArray(d["violations"])) run.admission = violationsOf(d, "reject");
      break;
    default:
      break;
  }
}

function violationsOf(d: Record<string, unknown>, effect: "reject" | "skip"): Violation[] {
  const list = Array.isArray(d["violations"]) ? (d["violations"] as Array<Record<string, unknown>>) : [];
  const out = list
    .filter((v) => typeof v["name"] === "string")
    .map((v) => ({ source: String(v["source"] ?? "replay"), name: String(v["name"]), reason: String(v["reason"] ?? ""), ...(effect === "skip" ? { effect } : {}) }));
  if (out.length > 0) return out;
  // Older logs carry only the reason text.
  return [{ source: "replay", name: "recorded", reason: String(d["reason"] ?? "").replace(/^rejected: /, ""), ...(effect === "skip" ? { effect } : {}) }];
}
