import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createEventJournal } from "../../src/storage/event-journal.ts";
import type { AppendLog, LogRecord } from "../../src/storage/storage.ts";
import { patternBytes, rejectsWith, skipTable } from "./helpers.ts";

/** What `make` gets: an id naming the log (same id = reopen) and, for one case, a smaller record limit. */
export interface AppendLogTestContext {
  id: string;
  maxRecordBytes?: number;
}

export interface TestAppendLogOptions {
  name: string;
  make: (ctx: AppendLogTestContext) => Promise<AppendLog>;
  skip?: ReadonlyArray<{ reason: string; cases: readonly AppendLogCaseName[] }>;
}

interface Harness {
  open(maxRecordBytes?: number): Promise<AppendLog>;
}

type Case = (h: Harness) => Promise<void>;

async function readAll(log: AppendLog, offset?: number): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of log.read(offset)) out.push(r);
  return out;
}

const texts = (recs: LogRecord[]) => recs.map((r) => new TextDecoder().decode(r.data));
const enc = (s: string) => new TextEncoder().encode(s);

const cases = {
  "empty log reads nothing": async (h) => {
    const log = await h.open();
    assert.deepEqual(await readAll(log), []);
    assert.deepEqual(await readAll(log, 12345), []);
  },
  "append then read in order": async (h) => {
    const log = await h.open();
    const offsets: number[] = [];
    for (const t of ["one", "two", "three"]) offsets.push(await log.append(enc(t)));
    assert.ok(offsets[0]! < offsets[1]! && offsets[1]! < offsets[2]!, "offsets increase");
    const recs = await readAll(log);
    assert.deepEqual(texts(recs), ["one", "two", "three"]);
    assert.deepEqual(recs.map((r) => r.offset), offsets, "records carry the offsets append returned");
    assert.equal(recs[0]!.next, recs[1]!.offset);
    assert.equal(recs[1]!.next, recs[2]!.offset);
  },
  "binary and empty records": async (h) => {
    const log = await h.open();
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    await log.append(all);
    await log.append(new Uint8Array(0));
    await log.append(Buffer.from("buf"));
    const recs = await readAll(log);
    assert.deepEqual(recs.map((r) => r.data), [all, new Uint8Array(0), enc("buf")]);
    assert.ok(recs.every((r) => Object.getPrototypeOf(r.data) === Uint8Array.prototype));
  },
  "read from an offset": async (h) => {
    const log = await h.open();
    for (let i = 0; i < 10; i++) await log.append(enc(`r${i}`));
    const recs = await readAll(log);
    for (let i = 0; i < recs.length; i++) assert.deepEqual(texts(await readAll(log, recs[i]!.offset)), texts(recs.slice(i)));
    assert.deepEqual(await readAll(log, recs[4]!.next), recs.slice(5));
    assert.deepEqual(await readAll(log, recs.at(-1)!.next), [], "reading from the end yields nothing");
    await log.append(enc("later"));
    assert.deepEqual(texts(await readAll(log, recs.at(-1)!.next)), ["later"], "and continues there after more appends");
  },
  "concurrent appends": async (h) => {
    const log = await h.open();
    const n = 100;
    const offsets = await Promise.all(Array.from({ length: n }, (_, i) => log.append(enc(`c${i}`))));
    assert.equal(new Set(offsets).size, n, "distinct offsets");
    assert.deepEqual([...offsets].sort((a, b) => a - b), offsets, "offsets follow call order");
    const recs = await readAll(log);
    assert.deepEqual(texts(recs), Array.from({ length: n }, (_, i) => `c${i}`));
    assert.deepEqual(recs.map((r) => r.offset), offsets);
  },
  "records are copies": async (h) => {
    const log = await h.open();
    const data = Uint8Array.from([1, 2, 3]);
    const pending = log.append(data);
    data[0] = 9;
    await pending;
    const [first] = await readAll(log);
    assert.deepEqual(first!.data, Uint8Array.from([1, 2, 3]));
    first!.data[1] = 9;
    assert.deepEqual((await readAll(log))[0]!.data, Uint8Array.from([1, 2, 3]));
  },
  "compact keeps chosen records": async (h) => {
    const log = await h.open();
    for (let i = 0; i < 20; i++) await log.append(enc(`${i}`));
    await log.compact((r) => Number(new TextDecoder().decode(r)) % 3 === 0);
    const kept = ["0", "3", "6", "9", "12", "15", "18"];
    assert.deepEqual(texts(await readAll(log)), kept);
    const offset = await log.append(enc("after"));
    const recs = await readAll(log);
    assert.deepEqual(texts(recs), [...kept, "after"]);
    assert.equal(recs.at(-1)!.offset, offset);
    assert.ok(recs.every((r, i) => i === 0 || r.offset > recs[i - 1]!.offset), "offsets still increase");
    await log.compact(() => false);
    assert.deepEqual(await readAll(log), []);
    await log.append(enc("fresh"));
    assert.deepEqual(texts(await readAll(log)), ["fresh"]);
  },
  "compact failure keeps the log": async (h) => {
    const log = await h.open();
    for (let i = 0; i < 5; i++) await log.append(enc(`${i}`));
    await assert.rejects(
      log.compact((r) => {
        if (r[0] === "3".charCodeAt(0)) throw new Error("keep blew up");
        return false;
      }),
    );
    assert.deepEqual(texts(await readAll(log)), ["0", "1", "2", "3", "4"]);
    await log.append(enc("5"));
    assert.equal((await readAll(log)).length, 6);
  },
  "reopen keeps records": async (h) => {
    let log = await h.open();
    const offsets = [];
    for (let i = 0; i < 5; i++) offsets.push(await log.append(patternBytes(100 + i, i + 1)));
    await log.close();
    log = await h.open();
    const recs = await readAll(log);
    assert.deepEqual(recs.map((r) => r.data), [0, 1, 2, 3, 4].map((i) => patternBytes(100 + i, i + 1)));
    assert.deepEqual(recs.map((r) => r.offset), offsets);
    const more = await log.append(enc("more"));
    assert.ok(more > offsets.at(-1)!, "appending continues after the old records");
    await log.close();
    log = await h.open();
    assert.equal((await readAll(log)).length, 6);
  },
  "event journal survives reopen": async (h) => {
    let log = await h.open();
    const events = Array.from({ length: 20 }, (_, i) => ({ kind: "state_changed", data: { key: `k${i}`, value: i } }));
    for (const e of events) await createEventJournal(log).write(e);
    await log.close();
    log = await h.open();
    assert.deepEqual(await createEventJournal(log).readAll(), events);
  },
  "16 MiB record": async (h) => {
    const log = await h.open();
    const big = patternBytes(16 * 1024 * 1024, 3);
    await log.append(enc("before"));
    await log.append(big);
    await log.append(enc("after"));
    const recs = await readAll(log);
    assert.equal(recs.length, 3);
    assert.ok(Buffer.compare(recs[1]!.data, big) === 0);
    assert.equal(new TextDecoder().decode(recs[2]!.data), "after");
  },
  "maxRecordBytes is enforced": async (h) => {
    const log = await h.open(1024);
    await log.append(new Uint8Array(1024));
    await rejectsWith(() => log.append(new Uint8Array(1025)), "invalid_input", "record over the limit");
    assert.equal((await readAll(log)).length, 1);
  },
  "invalid records are refused": async (h) => {
    const log = await h.open();
    for (const bad of ["text", [1, 2], null, undefined, new Uint16Array(2), new ArrayBuffer(4)]) {
      await rejectsWith(() => log.append(bad as unknown as Uint8Array), "invalid_input", String(bad));
    }
    assert.deepEqual(await readAll(log), []);
  },
  "closed log refuses": async (h) => {
    const log = await h.open();
    const pending = log.append(enc("in flight"));
    await log.close();
    assert.equal(typeof (await pending), "number", "an append issued before close completes");
    await log.close();
    await rejectsWith(() => log.append(enc("x")), "storage_error", "append after close");
    await rejectsWith(() => readAll(log), "storage_error", "read after close");
  },
  "event journal round-trip": async (h) => {
    const log = await h.open();
    const journal = createEventJournal(log);
    const events = [
      { kind: "run_started", run_id: "r1", data: {}, timestamp: "2026-01-01T00:00:00Z" },
      { kind: "action_succeeded", action_id: "a", data: { output: { n: 1, s: "é😀", list: [null, true] } }, timestamp: "2026-01-01T00:00:01Z" },
    ];
    for (const e of events) await journal.write(e);
    assert.deepEqual(await journal.readAll(), events);
    await rejectsWith(() => journal.write({ bad: NaN }), "invalid_input", "a non-JSON event");
    await rejectsWith(() => journal.write([1] as unknown as object), "invalid_input", "an array is not an event");
    assert.equal((await journal.readAll()).length, 2, "refused events were not written");
  },
} satisfies Record<string, Case>;

export type AppendLogCaseName = keyof typeof cases;
export const APPEND_LOG_CASES = Object.keys(cases) as AppendLogCaseName[];

/** Runs every AppendLog case against `make`; cases in `skip` are reported as skipped with their reason. */
export function testAppendLog(options: TestAppendLogOptions): void {
  const skipped = skipTable(APPEND_LOG_CASES, options.skip);
  let n = 0;
  describe(`AppendLog conformance: ${options.name}`, () => {
    for (const name of APPEND_LOG_CASES) {
      const reason = skipped.get(name);
      test(name, reason ? { skip: reason } : {}, async () => {
        const id = `log-${++n}`;
        const opened: AppendLog[] = [];
        const h: Harness = {
          open: async (maxRecordBytes) => {
            const log = await options.make(maxRecordBytes === undefined ? { id } : { id, maxRecordBytes });
            opened.push(log);
            return log;
          },
        };
        try {
          await cases[name](h);
        } finally {
          for (const log of opened) await log.close().catch(() => {});
        }
      });
    }
  });
}
