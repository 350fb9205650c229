import { EventSchema, type Event, type EventKind, type EventQuery } from "../ir/event.ts";
import { ValidationError } from "../errors.ts";
import { formatPath } from "../ir/parse.ts";
import { canonicalJson, cloneValue } from "./canonical-json.ts";
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";

/** What a caller supplies to append: everything but the timestamp and hash fields. */
export type EventInit = Omit<Event, "timestamp" | "prev_hash" | "hash" | "data"> & { data?: Record<string, unknown> };

export interface EventLogOptions {
  clock?: Clock;
  /** Oldest events are dropped past this many (default: unbounded). */
  maxEvents?: number;
}

/** Result of `verifyChain`. */
export type ChainVerification = { verified: number } | { tampered_at: number };

const GENESIS = "0".repeat(64);

/**
 * The append-only event log of one runtime. Appends are synchronous; when hash chaining is on,
 * SHA-256 (crypto.subtle, which is async) is computed in append order on a promise queue that
 * `settled()` awaits.
 */
export class EventLog {
  /** Held events are `events[head..]`; dropped ones before `head` are cleared and cut off in bulk. */
  private events: Array<Event | undefined> = [];
  private head = 0;
  private listeners = new Set<(e: Event) => void>();
  private readonly clock: Clock;
  private readonly maxEvents: number | undefined;
  private chained = false;
  private lastHash: Promise<string> = Promise.resolve(GENESIS);

  constructor(options: EventLogOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxEvents = options.maxEvents;
  }

  /** Appends an event stamped with the clock's time and returns it. */
  append(init: EventInit): Event {
    return this.appendTagged(init, undefined, undefined);
  }

  /**
   * Appends `init` with `tags` and `proposalId` filled in where `init` leaves them out — the same
   * event as `append({...tags, proposal_id, ...init})`, without building the merged object.
   */
  appendTagged(init: EventInit, tags: Pick<EventInit, "run_id" | "client_id" | "policy_session_id"> | undefined, proposalId: string | undefined): Event {
    const event = { kind: init.kind } as Event;
    const runId = init.run_id ?? tags?.run_id;
    if (runId !== undefined) event.run_id = runId;
    const clientId = init.client_id ?? tags?.client_id;
    if (clientId !== undefined) event.client_id = clientId;
    const policySession = init.policy_session_id ?? tags?.policy_session_id;
    if (policySession !== undefined) event.policy_session_id = policySession;
    if (init.action_id !== undefined) event.action_id = init.action_id;
    const pid = init.proposal_id ?? proposalId;
    if (pid !== undefined) event.proposal_id = pid;
    event.data = init.data ? cloneValue(init.data) : {};
    event.timestamp = this.timestamp();
    this.push(event);
    return event;
  }

  private push(event: Event): void {
    this.events.push(event);
    if (this.maxEvents !== undefined && this.events.length - this.head > this.maxEvents) this.dropOldest();
    if (this.chained) {
      // Each hash covers the previous one, so hashes are computed strictly in append order.
      this.lastHash = this.lastHash.then(async (prev) => {
        const h = await hashEvent(event, prev);
        event.prev_hash = prev;
        event.hash = h;
        return h;
      });
    }
    for (const l of this.listeners) l(event);
  }

  /**
   * Drops the oldest event in O(1): splicing the front of a full log on every append would move
   * every held event each time. The array is compacted once half of it is dropped slots.
   */
  private dropOldest(): void {
    this.events[this.head++] = undefined;
    if (this.head * 2 >= this.events.length) this.compact();
  }

  private compact(): void {
    if (this.head === 0) return;
    this.events = this.events.slice(this.head);
    this.head = 0;
  }

  /** The held events, oldest first. */
  private held(): Event[] {
    this.compact();
    return this.events as Event[];
  }

  private lastMs = NaN;
  private lastIso = "";
  /** ISO time of now; consecutive events in the same millisecond share one string. */
  private timestamp(): string {
    const ms = this.clock.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    return this.lastIso;
  }

  /**
   * Puts recovered history back, oldest first, without telling listeners (it is already
   * journalled). With `lastHash` (the hash of the last recorded event) the chain continues from it.
   */
  load(events: readonly Event[], lastHash?: string): void {
    for (const e of events) this.events.push(e);
    if (this.maxEvents !== undefined && this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
    if (lastHash !== undefined) {
      this.chained = true;
      this.lastHash = Promise.resolve(lastHash);
    }
  }

  /** Starts SHA-256 chaining: every event appended from now on carries `prev_hash` and `hash`. */
  enableChain(): void {
    this.chained = true;
  }

  get chainEnabled(): boolean {
    return this.chained;
  }

  /** Resolves once every pending hash has been computed. */
  async settled(): Promise<void> {
    await this.lastHash;
  }

  /** Recomputes the chain; returns how many chained events verified, or the index of the first bad one. */
  async verifyChain(): Promise<ChainVerification> {
    await this.settled();
    let prev: string | undefined;
    let verified = 0;
    const events = this.held();
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (e.hash === undefined && e.prev_hash === undefined) {
        if (prev !== undefined) return { tampered_at: i };
        continue;
      }
      if (e.hash === undefined || e.prev_hash === undefined) return { tampered_at: i };
      if (prev !== undefined && e.prev_hash !== prev) return { tampered_at: i };
      if ((await hashEvent(e, e.prev_hash)) !== e.hash) return { tampered_at: i };
      prev = e.hash;
      verified++;
    }
    return { verified };
  }

  /** Number of events held. */
  count(): number {
    return this.events.length - this.head;
  }

  /** Copies of all events, oldest first. */
  all(): Event[] {
    return this.held().map((e) => cloneValue(e));
  }

  /** Events matching `q`, most recent first (as the reference's `events.query`). */
  query(q: EventQuery = {}): Event[] {
    const kinds = q.kinds ? new Set<EventKind>(q.kinds) : undefined;
    const out: Event[] = [];
    const events = this.held();
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i]!;
      if (kinds && !kinds.has(e.kind)) continue;
      if (q.action_id !== undefined && e.action_id !== q.action_id) continue;
      if (q.proposal_id !== undefined && e.proposal_id !== q.proposal_id) continue;
      if (q.since !== undefined && Date.parse(e.timestamp) < Date.parse(q.since)) continue;
      if (q.until !== undefined && Date.parse(e.timestamp) > Date.parse(q.until)) continue;
      out.push(cloneValue(e));
      if (q.limit !== undefined && out.length >= q.limit) break;
    }
    return out;
  }

  /** Calls `fn` with every event appended from now on; returns the unsubscribe function. */
  subscribe(fn: (e: Event) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** One JSON object per line, oldest first, after pending hashes are done. */
  async toJSONL(): Promise<string> {
    await this.settled();
    const events = this.held();
    return events.map((e) => JSON.stringify(e)).join("\n") + (events.length ? "\n" : "");
  }

  /** Rebuilds a log from JSONL. A malformed line is a ValidationError naming its line number. */
  static fromJSONL(text: string, options: EventLogOptions = {}): EventLog {
    const log = new EventLog(options);
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (!line) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (err) {
        throw new ValidationError("events", "event log", [{ path: `line ${i + 1}`, message: `not JSON: ${(err as Error).message}` }]);
      }
      const res = EventSchema.safeParse(raw);
      if (!res.success) {
        throw new ValidationError("events", "event log", res.error.issues.map((x) => ({ path: `line ${i + 1}: ${formatPath(x.path)}`, message: x.message })));
      }
      log.events.push(res.data);
    }
    const last = log.events[log.events.length - 1];
    if (last?.hash) {
      log.chained = true;
      log.lastHash = Promise.resolve(last.hash);
    }
    return log;
  }
}

async function hashEvent(e: Event, prevHash: string): Promise<string> {
  const { hash: _h, prev_hash: _p, ...rest } = e;
  const bytes = new TextEncoder().encode(canonicalJson({ ...rest, prev_hash: prevHash }));
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
