import { z } from "zod";
import { CarError, messageOf } from "../errors.ts";
import { EventSchema, type Event } from "../ir/event.ts";
import type { JsonObject } from "../ir/json.ts";
import type { ProposalResult } from "../ir/results.ts";
import { createEventJournal, type EventJournal } from "../storage/event-journal.ts";
import type { AppendLog, Storage } from "../storage/storage.ts";
import { listCheckpoints, loadCheckpoint, storeCheckpoint, type Checkpoint, type RestoreReport } from "./checkpoint.ts";
import { Runtime, type ExecuteOptions, type RuntimeOptions } from "./runtime.ts";

const C = "engine:persistent";

/** Storage key of the saved state record. */
export const RUNTIME_STATE_KEY = "runtime/state";
/** Version of the saved state record; reading another fails closed. */
export const RUNTIME_STATE_FORMAT_VERSION = 1;

const StateRecordSchema = z.object({
  format_version: z.literal(RUNTIME_STATE_FORMAT_VERSION),
  state: z.record(z.string(), z.unknown()),
  chain: z.boolean().default(false),
});
type StateRecord = z.infer<typeof StateRecordSchema>;

/** Settings of a PersistentRuntime: a Runtime's, plus where it keeps its state and events. */
export interface PersistentRuntimeOptions extends RuntimeOptions {
  /** Holds the state record (`runtime/state`) and stored checkpoints (`checkpoints/<id>`). */
  storage: Storage;
  /** The event journal: one record per event, in order. */
  log: AppendLog;
}

/** What `PersistentRuntime.open` found. */
export interface RestoredSummary {
  /** Events read from the journal. */
  journalEvents: number;
  /** Events loaded into `events` (the newest `maxEvents` of them). */
  events: number;
  /** Keys of the restored state. */
  stateKeys: number;
}

/**
 * A Runtime whose events are journaled to an AppendLog and whose state is saved to a Storage, and
 * which picks both up again when reopened (a page reload, a process restart). Events are written
 * in order as they happen. The state is saved only while no proposal is running, so what is saved
 * is always a state the runtime had between proposals (never the inside of one that may still roll
 * back). `executeProposal` resolves once its events and the resulting state are durable.
 * Works with any Storage and AppendLog; it opens and closes neither.
 */
export class PersistentRuntime extends Runtime {
  readonly storage: Storage;
  readonly journal: EventJournal<Event>;
  readonly restored: RestoredSummary;
  private pending: Event[] = [];
  private running = 0;
  private stateDirty = false;
  private scheduled = false;
  private queue: Promise<void> = Promise.resolve();
  private failure: CarError | undefined;
  private closed = false;
  private readonly appendLog: AppendLog;
  private readonly detach: () => void;

  /** Reads the journal and the saved state, and returns the runtime holding them. */
  static async open(options: PersistentRuntimeOptions): Promise<PersistentRuntime> {
    const journal = createEventJournal(options.log, { parse: (v) => EventSchema.parse(v) });
    const events: Event[] = [];
    let at = 0;
    try {
      for await (const entry of journal.read(0)) {
        at = entry.next;
        events.push(entry.event);
      }
    } catch (err) {
      if (err instanceof CarError) throw err;
      throw new CarError("corrupted", C, `journal record after offset ${at} is not an event: ${messageOf(err)}`, { offset: at }, { cause: err });
    }
    const record = parseStateRecord(await options.storage.get(RUNTIME_STATE_KEY));
    return new PersistentRuntime(options, journal, events, record);
  }

  private constructor(options: PersistentRuntimeOptions, journal: EventJournal<Event>, events: Event[], record: StateRecord | undefined) {
    const { storage: _s, log: _l, ...runtimeOptions } = options;
    super(runtimeOptions);
    this.storage = options.storage;
    this.journal = journal;
    this.appendLog = options.log;
    this.store.restore(record?.state ?? {});
    this.events.restore(events);
    if (record?.chain && !this.events.chainEnabled) this.events.enableChain();
    this.restored = { journalEvents: events.length, events: this.events.count(), stateKeys: this.store.keys().length };
    this.detach = this.events.subscribe((e) => {
      this.pending.push(e);
      this.stateDirty = true;
      this.schedule();
    });
  }

  /** Executes a proposal (see Runtime) and resolves once its events and resulting state are durable. */
  override async executeProposal(input: unknown, options: ExecuteOptions = {}): Promise<ProposalResult> {
    this.ready();
    this.running++;
    try {
      return await super.executeProposal(input, options);
    } finally {
      this.running--;
      await this.flush();
    }
  }

  /**
   * Resolves once every event so far is in the journal and, when no proposal is running, the
   * current state is saved. Rejects with `storage_error` if any write has failed (then nothing
   * more is written: reopen to continue from what is durable).
   */
  async flush(): Promise<void> {
    this.schedule();
    await this.queue;
    if (this.failure) throw this.failure;
  }

  /** Saves a checkpoint (Runtime.saveCheckpoint) into the storage under `checkpoints/<id>`. */
  async storeCheckpoint(metadata: Record<string, unknown> = {}): Promise<Checkpoint> {
    this.ready();
    const cp = this.saveCheckpoint(metadata);
    await storeCheckpoint(this.storage, cp);
    return cp;
  }

  /** Restores a checkpoint stored with `storeCheckpoint` (`not_found` when absent) and saves the state. */
  async restoreStoredCheckpoint(checkpointId: string): Promise<RestoreReport> {
    this.ready();
    const report = this.restoreCheckpoint(await loadCheckpoint(this.storage, checkpointId));
    await this.flush();
    return report;
  }

  /** Ids of the checkpoints in the storage, sorted. */
  listStoredCheckpoints(): Promise<string[]> {
    return listCheckpoints(this.storage);
  }

  /**
   * Drops all but the newest `keepLast` journal records (the journal otherwise grows without bound
   * and is read whole on open). The in-memory event log is not changed. Returns how many were kept.
   */
  async compactJournal(keepLast: number): Promise<number> {
    if (!Number.isSafeInteger(keepLast) || keepLast < 0) throw new CarError("invalid_input", C, "keepLast must be a non-negative integer");
    await this.flush();
    let kept = 0;
    // Runs on the write queue, so no append lands between counting and compacting.
    const job = this.queue.then(async () => {
      let total = 0;
      for await (const _ of this.appendLog.read(0)) total++;
      let i = 0;
      await this.appendLog.compact(() => i++ >= total - keepLast);
      kept = Math.min(total, keepLast);
    });
    this.queue = job.catch(() => undefined);
    await job;
    return kept;
  }

  /** Flushes, then stops persisting; further proposals are refused. Closes neither the storage nor the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flush();
    } finally {
      this.closed = true;
      this.detach();
    }
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    this.queue = this.queue.then(() => this.writeOut());
  }

  private async writeOut(): Promise<void> {
    this.scheduled = false;
    if (this.failure) return;
    // Taken together, before any await: the events so far and the state they led to.
    const batch = this.pending.splice(0);
    const saveState = this.stateDirty && this.running === 0;
    const state = saveState ? (JSON.parse(JSON.stringify(this.store.snapshot())) as Record<string, unknown>) : undefined;
    if (saveState) this.stateDirty = false;
    try {
      await this.events.settled(); // hashes of chained events are filled in asynchronously
      if (batch.length > 0) await Promise.all(batch.map((e) => this.journal.write(e)));
      if (state) await this.storage.set(RUNTIME_STATE_KEY, { format_version: RUNTIME_STATE_FORMAT_VERSION, state: state as JsonObject, chain: this.events.chainEnabled });
    } catch (err) {
      this.failure = new CarError("storage_error", C, `persisting the runtime failed: ${messageOf(err)}`, undefined, { cause: err });
    }
  }

  private ready(): void {
    if (this.closed) throw new CarError("storage_error", C, "the persistent runtime is closed");
    if (this.failure) throw this.failure;
  }
}

function parseStateRecord(raw: unknown): StateRecord | undefined {
  if (raw === undefined) return undefined;
  const res = StateRecordSchema.safeParse(raw);
  if (!res.success) throw new CarError("corrupted", C, `the saved runtime state (${RUNTIME_STATE_KEY}) is unreadable: ${res.error.issues[0]?.message ?? "bad shape"}`);
  return res.data;
}
