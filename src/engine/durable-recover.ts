import { EVENT_KINDS, type Event } from "../ir/event.ts";
import type { ProposalResult } from "../ir/results.ts";
import { CarError, messageOf } from "../errors.ts";
import { createEventJournal, EVENT_JOURNAL_VERSION } from "../storage/event-journal.ts";
import type { JsonObject } from "../ir/json.ts";
import type { AppendLog } from "../storage/storage.ts";
import { SNAPSHOT_RECORD_PREFIX, type DurableJournal } from "./durable-journal.ts";
import type { EventInit, EventLog } from "./event-log.ts";
import type { ResumeState, RunOutcome } from "./execute.ts";
import { JournalFold, type InFlightRun } from "./journal-fold.ts";
import type { PreparedProposal } from "./runtime.ts";
import type { StateSnapshot, StateStore } from "./state-store.ts";

const COMPONENT = "engine:durable";
const KINDS = new Set<string>(EVENT_KINDS);

/** One proposal that recovery found unfinished and ran to its end. */
export interface ResumedProposal {
  proposal_id: string;
  /** Actions whose recorded outcome was taken over (never run again). */
  adopted: string[];
  /** Actions run after the restart, with the live tools. */
  rerun: string[];
  /** Actions that had started before the crash without a recorded outcome (run again: at least once). */
  interrupted: string[];
  /** The proposal's result (absent if it could no longer be prepared; see `error`). */
  result?: ProposalResult;
  error?: string;
}

/** What `Runtime.recover()` found and did. */
export interface RecoveryReport {
  /** Journal records read (from the last snapshot on). */
  records: number;
  /** Events put back into the runtime's event log. */
  events: number;
  /** Offset of the snapshot recovery started from, or null (read from the start). */
  snapshot_offset: number | null;
  /** Keys in the recovered state (after resumed proposals ran). */
  state_keys: number;
  resumed: ResumedProposal[];
}

/** What recovery needs from the runtime it restores. */
export interface RecoveryHost {
  durable: DurableJournal;
  store: StateStore;
  events: EventLog;
  emit: (e: EventInit) => void;
  prepare: (proposal: unknown) => PreparedProposal;
  resume: (prepared: PreparedProposal, resume: ResumeState) => Promise<RunOutcome>;
}

/** Checks the shape of an event read back (cheap: no schema parse on the recovery path). */
function parseEvent(v: JsonObject, offset: number): Event {
  if (typeof v["kind"] !== "string" || !KINDS.has(v["kind"]) || typeof v["timestamp"] !== "string" || typeof v["data"] !== "object" || v["data"] === null || Array.isArray(v["data"])) {
    throw new CarError("corrupted", COMPONENT, `journal record at offset ${offset} is not an event`, { offset });
  }
  return v as unknown as Event;
}

function snapshotBody(e: Event): unknown {
  return e.kind === "state_snapshot" && e.proposal_id === undefined ? e.data["journal_snapshot"] : undefined;
}

/** Every event of a journal in order, without recovery snapshots: what `replay` and audits take. */
export async function readJournal(log: AppendLog): Promise<Event[]> {
  return (await readJournalHistory(log)).events;
}

/** A journal's events and the state before the first of them (not empty after a compaction). */
export interface JournalHistory {
  events: Event[];
  initialState: StateSnapshot;
}

/**
 * Reads a journal for replay: every event (snapshot records left out) and the state they start
 * from, which is the leading snapshot's state when the journal was compacted, else empty.
 */
export async function readJournalHistory(log: AppendLog): Promise<JournalHistory> {
  const events: Event[] = [];
  let initialState: StateSnapshot = {};
  for await (const { offset, event } of createEventJournal(log).read(0)) {
    const e = parseEvent(event, offset);
    const body = snapshotBody(e);
    if (body === undefined) events.push(e);
    else if (events.length === 0) initialState = Object.fromEntries(JournalFold.fromSnapshot(body, `offset ${offset}`).state);
  }
  return { events, initialState };
}

/** Offset of the last snapshot record, found from the raw bytes without parsing other records. */
async function lastSnapshotOffset(log: AppendLog): Promise<number | undefined> {
  let found: number | undefined;
  for await (const rec of log.read(0)) if (startsWith(rec.data, SNAPSHOT_RECORD_PREFIX)) found = rec.offset;
  return found;
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/** The recorded proposal of an in-flight run (read back by offset when a snapshot left it out). */
async function proposalOf(log: AppendLog, run: InFlightRun): Promise<unknown> {
  if (run.proposal !== undefined) return run.proposal;
  for await (const { offset, event } of createEventJournal(log).read(run.received)) {
    const e = parseEvent(event, offset);
    if (e.kind !== "proposal_received" || e.proposal_id !== run.proposal_id) break;
    return e.data["proposal"];
  }
  throw new CarError("corrupted", COMPONENT, `journal: proposal ${run.proposal_id} is not at offset ${run.received} where its snapshot says it was received`);
}

/**
 * Restores a runtime from its journal: the state (the last snapshot plus the events after it),
 * the event history after that snapshot, the hash chain; then runs every unfinished proposal to
 * its end, adopting recorded outcomes and running only the remaining actions with the live tools.
 */
export async function recoverRuntime(host: RecoveryHost): Promise<RecoveryReport> {
  const { durable, store, events } = host;
  if (durable.recovered) throw new CarError("conflict", COMPONENT, "this runtime has already recovered (or written to) its journal");
  if (events.count() > 0 || store.keys().length > 0) {
    throw new CarError("conflict", COMPONENT, "recover() must run before anything is recorded: register tools, then recover, then write state or execute");
  }
  const log = durable.log;
  const snapAt = await lastSnapshotOffset(log);
  let fold = new JournalFold();
  let snapBytes = 0;
  let bytesAfter = 0;
  let records = 0;
  const restored: Event[] = [];
  for await (const rec of log.read(snapAt ?? 0)) {
    records++;
    const raw = decodeRecord(rec.data, rec.offset);
    const e = parseEvent(raw, rec.offset);
    const body = snapshotBody(e);
    if (body !== undefined) {
      // The last snapshot (earlier ones are never read; a later one would mean a bad prefix scan).
      fold = JournalFold.fromSnapshot(body, `offset ${rec.offset}`);
      snapBytes = rec.data.length;
      bytesAfter = 0;
      restored.length = 0;
      continue;
    }
    fold.apply(e, rec.offset);
    restored.push(e);
    bytesAfter += rec.data.length;
  }
  store.restore(Object.fromEntries(fold.state));
  events.load(restored, fold.lastHash);
  durable.adopt(fold, bytesAfter, snapBytes);

  const report: RecoveryReport = { records, events: restored.length, snapshot_offset: snapAt ?? null, state_keys: 0, resumed: [] };
  // In order received; runs resumed one after another, each seeing the one before it finished.
  const runs = [...fold.inFlight.values()].sort((a, b) => a.received - b.received);
  for (const run of runs) report.resumed.push(await resumeOne(host, log, fold, run));
  await durable.flush();
  report.state_keys = store.keys().length;
  return report;
}

async function resumeOne(host: RecoveryHost, log: AppendLog, fold: JournalFold, run: InFlightRun): Promise<ResumedProposal> {
  const pid = run.proposal_id;
  const interrupted = [...run.counts.keys()].filter((a) => !run.done.has(a));
  let prepared: PreparedProposal;
  try {
    prepared = host.prepare(await proposalOf(log, run));
  } catch (err) {
    // Only possible for a journal edited by hand: the proposal was valid when it was received.
    host.emit({ kind: "proposal_completed", proposal_id: pid, data: { status: "invalid", error: messageOf(err) } });
    return { proposal_id: pid, adopted: [], rerun: [], interrupted, error: messageOf(err) };
  }
  const before = fold.stateBefore(run);
  const counts = new Map<string, { tool_calls: number; retries: number }>();
  for (const a of prepared.proposal.actions) {
    const c = run.counts.get(a.id);
    if (c && run.done.has(a.id)) counts.set(a.id, { tool_calls: a.type === "tool_call" ? Math.max(0, c.executing - c.dedups) : 0, retries: c.retries });
  }
  const adopted = prepared.proposal.actions.filter((a) => run.done.has(a.id)).map((a) => a.id);
  const rerun = prepared.proposal.actions.filter((a) => !run.done.has(a.id)).map((a) => a.id);
  host.emit({ kind: "proposal_resumed", proposal_id: pid, data: { adopted: adopted.length, remaining: rerun.length, interrupted } });
  const outcome = await host.resume(prepared, { before, done: run.done, counts });
  return { proposal_id: pid, adopted, rerun, interrupted, result: outcome.result };
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function decodeRecord(data: Uint8Array, offset: number): JsonObject {
  let rec: { v?: unknown; event?: unknown };
  try {
    rec = JSON.parse(decoder.decode(data)) as { v?: unknown; event?: unknown };
  } catch (err) {
    throw new CarError("corrupted", COMPONENT, `journal record at offset ${offset} is not JSON`, { offset }, { cause: err });
  }
  if (typeof rec !== "object" || rec === null || rec.v !== EVENT_JOURNAL_VERSION || typeof rec.event !== "object" || rec.event === null) {
    throw new CarError("corrupted", COMPONENT, `journal record at offset ${offset} is not a version-1 event record`, { offset });
  }
  return rec.event as JsonObject;
}
