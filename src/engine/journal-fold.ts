import type { Event } from "../ir/event.ts";
import type { ActionResult } from "../ir/results.ts";
import { CarError } from "../errors.ts";
import type { StateSnapshot } from "./state-store.ts";

/** Version of the snapshot body; a snapshot of another version is refused. */
export const JOURNAL_SNAPSHOT_VERSION = 1;

/** Per-action counters a resumed run needs for its cost summary. */
export interface ActionCounts {
  executing: number;
  dedups: number;
  retries: number;
}

/** A proposal that was received but has no recorded `proposal_completed`. */
export interface InFlightRun {
  proposal_id: string;
  /** Journal offset of its `proposal_received` record. */
  received: number;
  /** The recorded proposal; absent after loading a snapshot (read it back from `received`). */
  proposal?: unknown;
  /** Value of every key changed since the proposal started, as it was before (undefined: absent). */
  undo: Map<string, { v: unknown } | undefined>;
  /** Actions with a recorded outcome. */
  done: Map<string, ActionResult>;
  counts: Map<string, ActionCounts>;
  /** State changes of an action logged before its outcome (applied when the success is read). */
  pending: Map<string, Record<string, unknown>>;
}

/** The body of a journal snapshot record (`state_snapshot` with `data.journal_snapshot`). */
export interface JournalSnapshotBody {
  version: number;
  state: StateSnapshot;
  last_hash?: string;
  in_flight: Array<{
    proposal_id: string;
    received: number;
    undo: Array<[string] | [string, unknown]>;
    done: ActionResult[];
    counts: Array<[string, number, number, number]>;
    pending?: Array<[string, Record<string, unknown>]>;
  }>;
}

/**
 * The state and the in-flight proposals that a sequence of journalled events leaves behind: what
 * recovery restores, and what a snapshot saves so that recovery can start there. Values are held
 * by reference (events are never mutated after they are journalled).
 */
export class JournalFold {
  state = new Map<string, unknown>();
  inFlight = new Map<string, InFlightRun>();
  lastHash: string | undefined;

  /** Folds one event recorded at `offset`. */
  apply(e: Event, offset: number): void {
    if (e.hash !== undefined) this.lastHash = e.hash;
    const pid = e.proposal_id;
    const run = pid === undefined ? undefined : this.inFlight.get(pid);
    const aid = e.action_id;
    const d = e.data;
    switch (e.kind) {
      case "proposal_received":
        if (pid !== undefined && d["proposal"] !== undefined) {
          this.inFlight.set(pid, { proposal_id: pid, received: offset, proposal: d["proposal"], undo: new Map(), done: new Map(), counts: new Map(), pending: new Map() });
        }
        return;
      case "proposal_completed":
        if (pid !== undefined) this.inFlight.delete(pid);
        return;
      case "state_changed": {
        const changes = (d["changes"] ?? {}) as Record<string, unknown>;
        if (run && aid !== undefined) run.pending.set(aid, { ...run.pending.get(aid), ...changes });
        else this.change(changes, (d["deleted"] as string[] | undefined) ?? []);
        return;
      }
      case "state_rollback":
        if (run) {
          const sets: Record<string, unknown> = {};
          const deletes: string[] = [];
          for (const [k, prev] of run.undo) prev ? (sets[k] = prev.v) : deletes.push(k);
          this.change(sets, deletes);
        }
        return;
      case "action_executing":
      case "action_deduplicated":
      case "action_retrying":
        if (run && aid !== undefined) {
          const c = run.counts.get(aid) ?? { executing: 0, dedups: 0, retries: 0 };
          if (e.kind === "action_executing") c.executing++;
          else if (e.kind === "action_deduplicated") c.dedups++;
          else c.retries++;
          run.counts.set(aid, c);
        }
        return;
      case "action_succeeded": {
        if (!run || aid === undefined) return;
        const changes = run.pending.get(aid) ?? {};
        run.pending.delete(aid);
        this.change(changes, []);
        run.done.set(aid, outcome(e, aid, "succeeded", { output: d["output"] ?? null, state_changes: changes }));
        return;
      }
      case "action_failed":
      case "action_rejected":
      case "action_skipped": {
        if (!run || aid === undefined) return;
        const status = e.kind === "action_failed" ? "failed" : e.kind === "action_rejected" ? "rejected" : "skipped";
        const error = String(d[e.kind === "action_failed" ? "error" : "reason"] ?? status);
        run.done.set(aid, outcome(e, aid, status, { error, ...(d["terminal"] === true ? { terminal: true as const } : {}) }));
        return;
      }
      default:
        return;
    }
  }

  /** The state an in-flight run rolls back to: the current one with its undo log applied. */
  stateBefore(run: InFlightRun): StateSnapshot {
    const out = Object.fromEntries(this.state);
    for (const [k, prev] of run.undo) {
      if (prev) out[k] = prev.v;
      else delete out[k];
    }
    return out;
  }

  /** Sets and deletes keys, remembering each key's first earlier value in every in-flight run. */
  private change(sets: Record<string, unknown>, deletes: readonly string[]): void {
    if (this.inFlight.size > 0) {
      for (const run of this.inFlight.values()) {
        for (const k of Object.keys(sets)) if (!run.undo.has(k)) run.undo.set(k, this.state.has(k) ? { v: this.state.get(k) } : undefined);
        for (const k of deletes) if (!run.undo.has(k)) run.undo.set(k, this.state.has(k) ? { v: this.state.get(k) } : undefined);
      }
    }
    for (const [k, v] of Object.entries(sets)) this.state.set(k, v);
    for (const k of deletes) this.state.delete(k);
  }

  /** The snapshot body (shares values with the fold: serialize it before folding on). */
  toSnapshot(): JournalSnapshotBody {
    return {
      version: JOURNAL_SNAPSHOT_VERSION,
      state: Object.fromEntries(this.state),
      ...(this.lastHash !== undefined ? { last_hash: this.lastHash } : {}),
      in_flight: [...this.inFlight.values()].map((r) => ({
        proposal_id: r.proposal_id,
        received: r.received,
        undo: [...r.undo].map(([k, prev]): [string] | [string, unknown] => (prev ? [k, prev.v] : [k])),
        done: [...r.done.values()],
        counts: [...r.counts].map(([a, c]): [string, number, number, number] => [a, c.executing, c.dedups, c.retries]),
        ...(r.pending.size > 0 ? { pending: [...r.pending] } : {}),
      })),
    };
  }

  /** Rebuilds a fold from a snapshot body; a malformed one is `corrupted` (naming `where`). */
  static fromSnapshot(body: unknown, where: string): JournalFold {
    const b = body as Partial<JournalSnapshotBody> | null;
    if (typeof b !== "object" || b === null || b.version !== JOURNAL_SNAPSHOT_VERSION || typeof b.state !== "object" || b.state === null || !Array.isArray(b.in_flight)) {
      throw new CarError("corrupted", "engine:durable", `journal snapshot at ${where} is malformed or of another version (this build reads version ${JOURNAL_SNAPSHOT_VERSION})`);
    }
    const fold = new JournalFold();
    fold.state = new Map(Object.entries(b.state));
    if (typeof b.last_hash === "string") fold.lastHash = b.last_hash;
    for (const r of b.in_flight) {
      fold.inFlight.set(r.proposal_id, {
        proposal_id: r.proposal_id,
        received: r.received,
        undo: new Map(r.undo.map((u) => [u[0], u.length === 2 ? { v: u[1] } : undefined])),
        done: new Map(r.done.map((x) => [x.action_id, x])),
        counts: new Map(r.counts.map(([a, executing, dedups, retries]) => [a, { executing, dedups, retries }])),
        pending: new Map(r.pending ?? []),
      });
    }
    return fold;
  }
}

function outcome(e: Event, aid: string, status: ActionResult["status"], fields: Partial<ActionResult>): ActionResult {
  const d = e.data;
  return {
    action_id: aid,
    status,
    output: fields.output ?? null,
    error: fields.error ?? null,
    state_changes: fields.state_changes ?? {},
    duration_ms: typeof d["duration_ms"] === "number" ? d["duration_ms"] : 0,
    timestamp: e.timestamp,
    ...(fields.terminal ? { terminal: true as const } : {}),
  };
}
