import { CarError } from "../errors.ts";
import type { JsonObject } from "../ir/json.ts";
import type { AppendLog } from "./storage.ts";
import { checkValue } from "./values.ts";

/** Version written into every journal record; a record of any other version is refused. */
export const EVENT_JOURNAL_VERSION = 1;

/** One event read back, with its log offset and where to continue. */
export interface JournalEntry<E> {
  offset: number;
  next: number;
  event: E;
}

/** Events (JSON objects) journalled to an AppendLog, one record each. */
export interface EventJournal<E extends object = JsonObject> {
  /**
   * Appends one event (a JSON object; properties holding `undefined` are left out, as optional
   * fields); resolves with its offset once the log has made it durable.
   */
  write(event: object): Promise<number>;
  /** Events from `offset` (0 = the start) in order. */
  read(offset?: number): AsyncIterable<JournalEntry<E>>;
  /** Every event in the journal, in order. */
  readAll(): Promise<E[]>;
}

/** Options of `createEventJournal`. */
export interface EventJournalOptions<E> {
  /** Validates and types each event read back (e.g. `EventSchema.parse`); its errors propagate. */
  parse: (value: JsonObject) => E;
}

const COMPONENT = "storage:journal";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Journals events to `log`: each is JSON-encoded as `{"v":1,"event":…}` so old readers fail closed on new formats. */
export function createEventJournal(log: AppendLog): EventJournal<JsonObject>;
export function createEventJournal<E extends object>(log: AppendLog, options: EventJournalOptions<E>): EventJournal<E>;
export function createEventJournal<E extends object>(log: AppendLog, options?: EventJournalOptions<E>): EventJournal<E | JsonObject> {
  const parse = options?.parse ?? ((v: JsonObject) => v);

  async function* read(offset = 0): AsyncIterable<JournalEntry<E | JsonObject>> {
    for await (const rec of log.read(offset)) {
      yield { offset: rec.offset, next: rec.next, event: parse(decodeRecord(rec.data, rec.offset)) };
    }
  }

  return {
    async write(event) {
      if (typeof event !== "object" || event === null || Array.isArray(event)) {
        throw new CarError("invalid_input", COMPONENT, "an event must be a JSON object");
      }
      checkValue(event, COMPONENT, { dropUndefined: true });
      return log.append(encoder.encode(JSON.stringify({ v: EVENT_JOURNAL_VERSION, event })));
    },
    read,
    async readAll() {
      const out: Array<E | JsonObject> = [];
      for await (const entry of read(0)) out.push(entry.event);
      return out;
    },
  };
}

function decodeRecord(data: Uint8Array, offset: number): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new CarError("corrupted", COMPONENT, `journal record at offset ${offset} is not JSON`, { offset }, { cause: err });
  }
  const rec = parsed as { v?: unknown; event?: unknown } | null;
  if (typeof rec !== "object" || rec === null || typeof rec.v !== "number") {
    throw new CarError("corrupted", COMPONENT, `journal record at offset ${offset} has no version`, { offset });
  }
  if (rec.v !== EVENT_JOURNAL_VERSION) {
    throw new CarError("unsupported", COMPONENT, `journal record at offset ${offset} has version ${rec.v}; this build reads version ${EVENT_JOURNAL_VERSION}`, { offset, version: rec.v });
  }
  if (typeof rec.event !== "object" || rec.event === null || Array.isArray(rec.event)) {
    throw new CarError("corrupted", COMPONENT, `journal record at offset ${offset} holds no event object`, { offset });
  }
  return rec.event as JsonObject;
}
