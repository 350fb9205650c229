import type { Event } from "../ir/event.ts";
import type { ProposalResult } from "../ir/results.ts";
import { CarError } from "../errors.ts";
import { ManualClock } from "./clock.ts";
import { SeededRandom } from "./random.ts";
import { Runtime } from "./runtime.ts";
import type { StateSnapshot } from "./state-store.ts";
import type { ToolCall, ToolExecutor } from "./tools.ts";

/** Options of `replay`. */
export interface ReplayOptions {
  /** State before the first recorded event (default: empty). */
  initialState?: StateSnapshot;
}

/** What a replay reproduced. */
export interface ReplayResult {
  results: ProposalResult[];
  finalState: StateSnapshot;
}

type Recorded = { ok: true; output: unknown } | { ok: false; error: string; errorClass: string };

/**
 * Re-runs a recorded event log: direct state writes are folded in, and every recorded proposal is
 * executed again with the recorded tool outputs (no tool is called). Reproduces each result's
 * statuses, outputs, errors and state changes, and the final state.
 */
export async function replay(events: readonly Event[], options: ReplayOptions = {}): Promise<ReplayResult> {
  const recorded = new Map<string, Recorded>();
  const key = (p: string | undefined, a: string | undefined, attempt: unknown) => `${p}\u0000${a}\u0000${String(attempt)}`;
  for (const e of events) {
    if (e.kind === "action_succeeded") recorded.set(key(e.proposal_id, e.action_id, e.data["attempt"]), { ok: true, output: e.data["output"] ?? null });
    if (e.kind === "action_failed" || e.kind === "action_retrying") {
      const attempt = e.kind === "action_failed" ? e.data["attempt"] : Number(e.data["attempt"]) - 1;
      recorded.set(key(e.proposal_id, e.action_id, attempt), { ok: false, error: String(e.data["error"] ?? "tool error"), errorClass: String(e.data["error_class"] ?? "tool_error") });
    }
  }
  const rejected = new Map<string, string>();
  for (const e of events) if (e.kind === "action_rejected") rejected.set(key(e.proposal_id, e.action_id, ""), String(e.data["reason"] ?? "rejected"));
  const executor: ToolExecutor = {
    async execute(call: ToolCall) {
      const r = recorded.get(key(call.proposal_id, call.action_id, call.attempt));
      if (!r) throw new CarError("not_found", "replay", `no recorded outcome for ${call.action_id} attempt ${call.attempt}`);
      if (r.ok) return r.output;
      const code = r.errorClass === "timeout" ? "timeout" : r.errorClass === "canceled" ? "canceled" : r.errorClass === "validation" ? "invalid_input" : "tool_error";
      throw new CarError(code, "replay", r.error);
    },
  };
  const first = events[0];
  const rt = new Runtime({ clock: new ManualClock(first ? Date.parse(first.timestamp) : 0), random: new SeededRandom(0), executor });
  if (options.initialState) rt.state.merge(options.initialState);
  // Policies are not part of the log; their recorded decisions are.
  rt.addGuard({
    check(action, _params, ctx) {
      const reason = rejected.get(key(ctx.proposal.id, action.id, ""));
      return reason === undefined ? [] : [{ source: "replay", name: "recorded", reason: reason.replace(/^rejected: /, "") }];
    },
  });
  const results: ProposalResult[] = [];
  for (const e of events) {
    if (e.kind === "state_changed" && e.proposal_id === undefined) {
      const changes = (e.data["changes"] ?? {}) as Record<string, unknown>;
      rt.state.merge(changes);
      for (const k of (e.data["deleted"] as string[] | undefined) ?? []) rt.state.delete(k);
    }
    if (e.kind === "proposal_received" && e.data["proposal"]) {
      const proposal = e.data["proposal"] as { actions: Array<{ tool?: string; type: string }> };
      // Tools exist only as names here: every call is answered from the record.
      for (const a of proposal.actions) if (a.type === "tool_call" && a.tool && !rt.tools.has(a.tool)) rt.registerTool({ name: a.tool });
      try {
        results.push(await rt.executeProposal(proposal));
      } catch {
        // A proposal that was invalid when recorded is invalid again; nothing ran then either.
      }
    }
  }
  return { results, finalState: rt.state.snapshot() };
}
