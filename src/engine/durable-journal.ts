import type { Event } from "../ir/event.ts";
import { CarError, messageOf } from "../errors.ts";
import { EVENT_JOURNAL_VERSION } from "../storage/event-journal.ts";
import type { AppendLog } from "../storage/storage.ts";
import { MAX_JSON_DEPTH } from "../storage/values.ts";
import type { Clock } from "./clock.ts";
import type { EventLog } from "./event-log.ts";
import { JournalFold } from "./journal-fold.ts";

/**
 * When to write a snapshot of the state and the in-flight proposals, so that recovery reads the
 * journal from there instead of from the start. A snapshot is written once the journal has grown
 * by `growthFactor` × the size of the last snapshot and by at least `minBytes` since it: snapshots
 * then cost at most 1/growthFactor of the event bytes, so bytes per step stay constant however large
 * the state grows, and recovery reads at most max(minBytes, growthFactor × snapshot) of events.
 */
export interface SnapshotPolicy {
  /** Fewest journal bytes between two snapshots (default DEFAULT_SNAPSHOT_MIN_BYTES, 1 MiB). */
  minBytes?: number;
  /** Journal growth between two snapshots, in multiples of the last snapshot's size (default 4). */
  growthFactor?: number;
}

/** Durability settings of a Runtime with a journal. */
export interface DurabilityOptions {
  /** Snapshot policy, or `false` for none (recovery then reads the whole journal). */
  snapshots?: SnapshotPolicy | false;
}

export const DEFAULT_SNAPSHOT_MIN_BYTES = 1 << 20;
export const DEFAULT_SNAPSHOT_GROWTH_FACTOR = 4;

/** What `Runtime.compactJournal()` did. */
export interface JournalCompaction {
  /** Records dropped (every record before the new snapshot). */
  dropped: number;
  /** Size of the snapshot record the journal now starts with. */
  snapshotBytes: number;
}

/** What the journal has written since it was opened. */
export interface JournalStats {
  /** Event records and their bytes (as handed to the AppendLog, without its framing). */
  records: number;
  bytes: number;
  snapshots: number;
  snapshotBytes: number;
}

const COMPONENT = "engine:durable";
const encoder = new TextEncoder();
/** How every snapshot record starts (recovery finds the last one without parsing the others). */
export const SNAPSHOT_RECORD_PREFIX = encoder.encode(`{"v":${EVENT_JOURNAL_VERSION},"event":{"kind":"state_snapshot","data":{"journal_snapshot":`);

/**
 * Mirrors a runtime's EventLog into an AppendLog (in the `createEventJournal` record format).
 * Events are queued as they are appended and written by `flush()`, which the engine awaits before
 * each DAG level and before a proposal's result is returned. Hashes are complete when written. A
 * failed write fails that flush and every later one: the runtime refuses work until it is reopened.
 */
export class DurableJournal {
  private queue: Event[] = [];
  private tail: Promise<void> = Promise.resolve();
  private failure: CarError | undefined;
  private ready = false;
  private runs = 0;
  private idle: Array<() => void> = [];
  private closing: Promise<void> | undefined;
  private autoFlush = false;
  private readonly fold: JournalFold | undefined;
  private readonly minBytes: number;
  private readonly growth: number;
  private sinceSnapshot = 0;
  private lastSnapshotBytes = 0;
  readonly stats: JournalStats = { records: 0, bytes: 0, snapshots: 0, snapshotBytes: 0 };

  constructor(
    readonly log: AppendLog,
    private readonly events: EventLog,
    private readonly clock: Clock,
    options: DurabilityOptions = {},
  ) {
    const policy = options.snapshots === false ? undefined : (options.snapshots ?? {});
    this.minBytes = positive(policy?.minBytes, DEFAULT_SNAPSHOT_MIN_BYTES, "snapshots.minBytes");
    this.growth = positive(policy?.growthFactor, DEFAULT_SNAPSHOT_GROWTH_FACTOR, "snapshots.growthFactor");
    this.fold = policy ? new JournalFold() : undefined;
    events.subscribe((e) => {
      if (this.failure) return; // nothing more is written; the runtime reports the failure instead
      this.queue.push(e);
      // Outside proposal runs (direct state writes…) nobody awaits a barrier: write soon anyway.
      if (this.runs === 0 && !this.autoFlush) {
        this.autoFlush = true;
        queueMicrotask(() => {
          this.autoFlush = false;
          if (this.runs === 0) this.flush().catch(() => {}); // sticky: the next awaited flush reports it
        });
      }
    });
  }

  /** The error that broke the journal, if one did. */
  get error(): CarError | undefined {
    return this.failure;
  }

  /** Throws if the journal is broken or closing: no new run may start. */
  check(): void {
    if (this.failure) throw this.failure;
    if (this.closing) throw closedJournal();
  }

  /** Marks the start and end of a proposal run (runs flush at their barriers). */
  enterRun(): void {
    this.runs++;
  }
  exitRun(): void {
    if (--this.runs === 0) for (const wake of this.idle.splice(0)) wake();
  }

  /**
   * Refuses new runs, lets the running ones finish, flushes, then stops journalling: every later
   * flush and run fails with `storage_error`. The AppendLog stays open (its owner closes it).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.runs > 0) await new Promise<void>((wake) => this.idle.push(wake));
      try {
        await this.flush();
      } finally {
        this.failure ??= closedJournal();
      }
    })();
    return this.closing;
  }

  /**
   * Writes a snapshot of the state and drops every record before it (AppendLog.compact), so the
   * journal no longer grows without bound. Only between proposals: a proposal still unfinished in
   * the journal is a `conflict`. Needs snapshots (`unsupported` with `snapshots: false`).
   */
  compact(): Promise<JournalCompaction> {
    const job = this.tail.then(async (): Promise<JournalCompaction> => {
      if (!this.fold) throw new CarError("unsupported", COMPONENT, "journal compaction writes a snapshot: it needs durability.snapshots (not false)");
      await this.write();
      if (!this.ready) await this.checkEmpty();
      // Unfinished proposals are found through offsets of records that compaction drops or renumbers.
      if (this.fold.inFlight.size > 0) {
        throw new CarError("conflict", COMPONENT, `cannot compact the journal while ${this.fold.inFlight.size} proposal(s) are unfinished: compact between proposals`);
      }
      let before = 0;
      for await (const _ of this.log.read(0)) before++;
      try {
        await this.snapshot();
      } catch (err) {
        throw this.broken(err, 0);
      }
      // Nothing else appends while this job holds the write chain, so the snapshot is record `before`.
      let i = 0;
      await this.log.compact(() => i++ >= before);
      return { dropped: before, snapshotBytes: this.lastSnapshotBytes };
    });
    this.tail = job.then(
      () => {},
      () => {},
    );
    return job;
  }

  /** Resolves once every event appended so far is durable; rejects if any write failed. */
  flush(): Promise<void> {
    const p = this.tail.then(() => this.write());
    this.tail = p.catch(() => {});
    return p;
  }

  /** Called by recovery: the journal's existing records are accounted for; continue from `fold`. */
  adopt(fold: JournalFold, bytesSinceSnapshot: number, lastSnapshotBytes: number): void {
    if (this.fold) {
      this.fold.state = fold.state;
      this.fold.inFlight = fold.inFlight;
      this.fold.lastHash = fold.lastHash;
    }
    this.sinceSnapshot = bytesSinceSnapshot;
    this.lastSnapshotBytes = lastSnapshotBytes;
    this.ready = true;
  }

  /** Whether recovery (or the first write, on an empty journal) has happened. */
  get recovered(): boolean {
    return this.ready;
  }

  private async write(): Promise<void> {
    if (this.failure) throw this.failure;
    // Nothing to write is not a write: a runtime that recorded nothing never touches its log.
    if (this.queue.length === 0) return;
    if (!this.ready) {
      try {
        await this.checkEmpty();
      } catch (err) {
        throw this.broken(err, this.queue.length);
      }
    }
    const batch = this.queue;
    this.queue = [];
    let offsets: number[];
    try {
      // Everything in the batch was appended before this call, so its hashes are done after it.
      if (this.events.chainEnabled) await this.events.settled();
      offsets = await Promise.all(batch.map((e) => this.append(encode(e), false)));
    } catch (err) {
      throw this.broken(err, batch.length);
    }
    if (!this.fold) return;
    for (let i = 0; i < batch.length; i++) this.fold.apply(batch[i]!, offsets[i]!);
    if (this.sinceSnapshot >= Math.max(this.minBytes, this.growth * this.lastSnapshotBytes)) {
      try {
        await this.snapshot();
      } catch (err) {
        throw this.broken(err, 0);
      }
    }
  }

  private async snapshot(): Promise<void> {
    const body = this.fold!.toSnapshot();
    // Key order fixed so that the record starts with SNAPSHOT_RECORD_PREFIX.
    const event = { kind: "state_snapshot", data: { journal_snapshot: body }, timestamp: new Date(this.clock.now()).toISOString() };
    const bytes = encode(event);
    await this.append(bytes, true);
    this.sinceSnapshot = 0;
    this.lastSnapshotBytes = bytes.length;
  }

  private append(bytes: Uint8Array, snapshot: boolean): Promise<number> {
    if (snapshot) {
      this.stats.snapshots++;
      this.stats.snapshotBytes += bytes.length;
    } else {
      this.stats.records++;
      this.stats.bytes += bytes.length;
      this.sinceSnapshot += bytes.length;
    }
    return this.log.append(bytes);
  }

  /** A runtime that did not recover may only write to an empty journal. */
  private async checkEmpty(): Promise<void> {
    for await (const _ of this.log.read(0)) {
      throw (this.failure = new CarError("conflict", COMPONENT, "the journal holds records of an earlier run: call `await runtime.recover()` (or use openDurableRuntime) before anything else"));
    }
    this.ready = true;
  }

  private broken(err: unknown, lost: number): CarError {
    this.failure ??= new CarError(
      "storage_error",
      COMPONENT,
      `journal write failed (${lost} event(s) may not be durable); this runtime refuses further work until it is reopened and recovered: ${messageOf(err)}`,
      undefined,
      { cause: err },
    );
    return this.failure;
  }
}

function closedJournal(): CarError {
  return new CarError("storage_error", COMPONENT, "the journal is closed (runtime.closeJournal()); reopen it with openDurableRuntime to go on");
}

/**
 * One event as a journal record: `{"v":1,"event":…}` (createEventJournal's format). A value that
 * JSON would silently change (NaN, a Date, a Map…) is refused, since replay would then diverge.
 */
function encode(event: object): Uint8Array {
  const problem = notJson(event, 0);
  if (problem) throw new CarError("invalid_input", COMPONENT, `event is not storable as JSON: $${problem}`);
  // JSON.stringify throws on cycles itself.
  return encoder.encode(`{"v":${EVENT_JOURNAL_VERSION},"event":${JSON.stringify(event)}}`);
}

/** What makes `value` unstorable in a journal record (e.g. ` is a Date`, after its path), or undefined when it is plain JSON. */
export function journalValueProblem(value: unknown): string | undefined {
  return notJson(value, 0);
}

/**
 * Like storage's checkValue (undefined properties allowed) without its cycle set: this runs per
 * event. Returns what is wrong, the path built on the way back up (only on failure).
 */
function notJson(v: unknown, depth: number): string | undefined {
  switch (typeof v) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(v) ? undefined : ` is ${v}`;
    case "object":
      break;
    default:
      return ` is a ${typeof v}`;
  }
  if (v === null) return undefined;
  if (depth > MAX_JSON_DEPTH) return ` nests deeper than ${MAX_JSON_DEPTH}`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = notJson(v[i], depth + 1);
      if (p) return `[${i}]${p}`;
    }
    return undefined;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return ` is a ${(v as { constructor?: { name?: string } }).constructor?.name ?? "object"}`;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined) continue;
    const p = notJson(x, depth + 1);
    if (p) return `.${k}${p}`;
  }
  return undefined;
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) throw new CarError("invalid_input", COMPONENT, `${name} must be a positive number (got ${v})`);
  return v;
}
