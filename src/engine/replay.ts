import type { Event } from "../ir/event.ts";
import type { ActionResult, ProposalResult } from "../ir/results.ts";
import { CarError } from "../errors.ts";
import { jsonEqual } from "./canonical-json.ts";
import { ManualClock } from "./clock.ts";
import { paramsDigest } from "./digest.ts";
import { EventLog } from "./event-log.ts";
import { SeededRandom } from "./random.ts";
import { attemptKey, recordedRuns, type RecordedOutcome, type RecordedRun } from "./replay-record.ts";
import { Runtime } from "./runtime.ts";
import type { StateSnapshot } from "./state-store.ts";
import type { ToolCall, ToolExecutor } from "./tools.ts";

/** Options of `replay`. */
export interface ReplayOptions {
  /** State before the first recorded event (default: empty). */
  initialState?: StateSnapshot;
  /**
   * Re-run this proposal instead of the recorded one with the same id (or the first recorded one
   * when it has none), answering its tool calls from the recording. Give its actions ids.
   */
  proposal?: unknown;
  /** Tools the replaying side has; a recorded call to any other tool is a divergence. */
  tools?: readonly string[];
  /** Throw a ReplayDivergenceError if anything diverged (default: report in `divergences`). */
  strict?: boolean;
}

/** One difference between the recording and the replay. */
export interface ReplayDivergence {
  proposal_id?: string;
  action_id?: string;
  /** What differed: status, output, error, state_changes, rolled_back, terminal, tool, parameters, call, action, cost.<field>, hash_chain. */
  field: string;
  recorded: unknown;
  replayed: unknown;
  message: string;
}

/** What a replay reproduced. */
export interface ReplayResult {
  /** One result per recorded proposal run, timing fields taken from the recording. */
  results: ProposalResult[];
  finalState: StateSnapshot;
  /** Empty when the replay matched the recording exactly. */
  divergences: ReplayDivergence[];
}

/** Thrown by a strict replay that diverged; `divergences` lists every difference. */
export class ReplayDivergenceError extends CarError {
  readonly divergences: ReplayDivergence[];
  constructor(divergences: ReplayDivergence[]) {
    super("conflict", "replay", `replay diverged from the recording: ${divergences.map((d) => d.message).join("; ")}`, { divergences });
    this.name = "ReplayDivergenceError";
    this.divergences = divergences;
  }
}

/**
 * Re-runs a recorded event log without calling any tool: direct state writes are folded in, and
 * every recorded proposal is executed again with the recorded tool outputs and the recorded
 * guard decisions (policies, capabilities, budget), cache hits and dedups. Each replayed result
 * is compared with the recording; every difference is reported with its action and field.
 */
export async function replay(events: readonly Event[], options: ReplayOptions = {}): Promise<ReplayResult> {
  const divergences: ReplayDivergence[] = [];
  const diverge = (d: ReplayDivergence) => void divergences.push(d);
  await checkChain(events, diverge);

  const runs = recordedRuns(events);
  let active: RecordedRun | undefined;
  const answer = (r: RecordedOutcome | undefined, call: ToolCall): unknown => {
    if (!r) throw new CarError("not_found", "replay", `no recorded outcome for ${call.action_id} attempt ${call.attempt}`);
    if (r.ok) return r.output;
    const code = r.errorClass === "timeout" ? "timeout" : r.errorClass === "canceled" ? "canceled" : r.errorClass === "validation" ? "invalid_input" : "tool_error";
    throw new CarError(code, "replay", r.error);
  };
  const executor: ToolExecutor = {
    async execute(call) {
      const run = active!;
      const at = { proposal_id: run.proposal_id, action_id: call.action_id };
      const key = attemptKey(call.action_id, call.attempt);
      if (options.tools && !options.tools.includes(call.tool)) {
        diverge({ ...at, field: "tool", recorded: call.tool, replayed: null, message: `action ${call.action_id}: tool ${call.tool} is not available to the replay` });
      }
      const recordedTool = (actionsOf(run.proposal) as Array<{ id?: string; tool?: string }>).find((a) => a.id === call.action_id)?.tool;
      if (recordedTool !== undefined && recordedTool !== call.tool) {
        diverge({ ...at, field: "tool", recorded: recordedTool, replayed: call.tool, message: `action ${call.action_id}: called tool ${call.tool}, the recording called ${recordedTool}` });
      }
      const digest = run.paramsDigests.get(key);
      if (digest !== undefined && digest !== paramsDigest(call.parameters)) {
        diverge({ ...at, field: "parameters", recorded: digest, replayed: paramsDigest(call.parameters), message: `action ${call.action_id} attempt ${call.attempt}: parameters differ from the recording (digest ${digest} vs ${paramsDigest(call.parameters)})` });
      }
      const outcome = run.outcomes.get(key);
      if (!outcome) diverge({ ...at, field: "call", recorded: null, replayed: call.attempt, message: `action ${call.action_id} attempt ${call.attempt}: the recording made no such call` });
      return answer(outcome, call);
    },
  };

  const first = events[0];
  const rt = new Runtime({ clock: new ManualClock(first ? Date.parse(first.timestamp) : 0), random: new SeededRandom(0), executor, resultCache: false });
  if (options.initialState) rt.state.merge(options.initialState);
  // Policies, capabilities and budgets are not part of the log; their recorded decisions are.
  rt.addAdmissionGuard({ admit: () => active?.admission ?? [] });
  rt.addGuard({ check: (action) => active?.guards.get(action.id) ?? [] });
  rt.addToolMiddleware(async (call, _action, next, ctx) => {
    const key = attemptKey(call.action_id, call.attempt);
    const dedup = active?.dedups.get(key);
    if (!dedup) return next(call);
    ctx.emit({ kind: "action_deduplicated", data: dedup });
    return answer(active!.outcomes.get(key), call);
  });

  const results: ProposalResult[] = [];
  let runIndex = 0;
  let replaced = false;
  for (const e of events) {
    if (e.kind === "state_changed" && e.proposal_id === undefined) {
      rt.state.merge((e.data["changes"] ?? {}) as Record<string, unknown>);
      for (const k of (e.data["deleted"] as string[] | undefined) ?? []) rt.state.delete(k);
      continue;
    }
    if (e.kind !== "proposal_received" || !e.data["proposal"]) continue;
    const run = runs[runIndex++]!;
    active = run;
    let input: unknown = run.proposal;
    if (options.proposal !== undefined && !replaced && matches(options.proposal, run)) {
      // Without an id the replacement would get a fresh one; it stands in for the recorded run.
      const given = options.proposal as Record<string, unknown>;
      input = given && typeof given === "object" && given["id"] === undefined ? { ...given, id: run.proposal_id } : given;
      replaced = true;
    }
    // Tools exist only as names here: every call is answered from the record.
    for (const a of [...actionsOf(run.proposal), ...actionsOf(input)]) if (a.type === "tool_call" && typeof a.tool === "string" && a.tool && !rt.tools.has(a.tool)) rt.registerTool({ name: a.tool });
    let result: ProposalResult;
    try {
      result = await rt.executeProposal(input);
    } catch (err) {
      // A proposal invalid when recorded is invalid again (nothing ran then either).
      if (run.cost !== undefined) diverge({ proposal_id: run.proposal_id, field: "status", recorded: "ran", replayed: "invalid", message: `proposal ${run.proposal_id}: ran when recorded, invalid on replay (${(err as Error).message})` });
      continue;
    }
    results.push(compareRun(run, result, diverge));
  }
  active = undefined;
  if (options.strict && divergences.length > 0) throw new ReplayDivergenceError(divergences);
  return { results, finalState: rt.state.snapshot(), divergences };
}

const RESULT_FIELDS = ["status", "output", "error", "state_changes", "rolled_back", "terminal"] as const;
const COST_FIELDS = ["tool_calls", "actions_executed", "actions_rejected", "actions_skipped", "retries"] as const;

/** Compares a replayed result with the recorded run; returns it with the recorded timing. */
function compareRun(run: RecordedRun, result: ProposalResult, diverge: (d: ReplayDivergence) => void): ProposalResult {
  const pid = run.proposal_id;
  const results: ActionResult[] = result.results.map((r) => {
    const rec = run.results.get(r.action_id);
    if (!rec) {
      diverge({ proposal_id: pid, action_id: r.action_id, field: "action", recorded: null, replayed: r.status, message: `action ${r.action_id}: not in the recording (replayed ${r.status})` });
      return r;
    }
    for (const f of RESULT_FIELDS) {
      if (!jsonEqual(rec[f] ?? null, r[f] ?? null)) {
        diverge({ proposal_id: pid, action_id: r.action_id, field: f, recorded: rec[f] ?? null, replayed: r[f] ?? null, message: `action ${r.action_id}: ${f} differs (recorded ${JSON.stringify(rec[f] ?? null)}, replayed ${JSON.stringify(r[f] ?? null)})` });
      }
    }
    return { ...r, duration_ms: rec.duration_ms, timestamp: rec.timestamp };
  });
  const replayedIds = new Set(result.results.map((r) => r.action_id));
  for (const id of run.results.keys()) {
    if (!replayedIds.has(id)) diverge({ proposal_id: pid, action_id: id, field: "action", recorded: run.results.get(id)!.status, replayed: null, message: `action ${id}: in the recording but not replayed` });
  }
  const cost = { ...result.cost };
  if (run.cost) {
    for (const f of COST_FIELDS) {
      if (run.cost[f] !== cost[f]) diverge({ proposal_id: pid, field: `cost.${f}`, recorded: run.cost[f], replayed: cost[f], message: `proposal ${pid}: cost.${f} differs (recorded ${run.cost[f]}, replayed ${cost[f]})` });
    }
    cost.total_duration_ms = run.cost.total_duration_ms;
  }
  return { ...result, results, cost };
}

async function checkChain(events: readonly Event[], diverge: (d: ReplayDivergence) => void): Promise<void> {
  if (!events.some((e) => e.hash !== undefined || e.prev_hash !== undefined)) return;
  let log: EventLog;
  try {
    log = EventLog.fromJSONL(events.map((e) => JSON.stringify(e)).join("\n"));
  } catch (err) {
    diverge({ field: "hash_chain", recorded: null, replayed: null, message: `the log cannot be checked: ${(err as Error).message}` });
    return;
  }
  const v = await log.verifyChain();
  if ("tampered_at" in v) diverge({ field: "hash_chain", recorded: v.tampered_at, replayed: null, message: `the hash chain breaks at event ${v.tampered_at}: the log was altered` });
}

function actionsOf(input: unknown): Array<{ type?: string; tool?: string }> {
  const actions = (input as { actions?: unknown } | null)?.actions;
  return Array.isArray(actions) ? (actions as Array<{ type?: string; tool?: string }>) : [];
}

function matches(proposal: unknown, run: RecordedRun): boolean {
  const id = (proposal as { id?: unknown } | null)?.id;
  return id === undefined || id === run.proposal_id;
}
