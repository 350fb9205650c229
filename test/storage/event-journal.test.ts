import assert from "node:assert/strict";
import { test } from "node:test";
import { createMemoryAppendLog } from "../../adapters/storage/memory.ts";
import { EventSchema } from "../../src/ir/event.ts";
import { createEventJournal } from "../../src/storage/event-journal.ts";
import { rejectsWith } from "./helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);

test("read continues from an offset and readAll returns every event in order", async () => {
  const journal = createEventJournal(createMemoryAppendLog());
  const offsets = [];
  for (let i = 0; i < 5; i++) offsets.push(await journal.write({ kind: "state_changed", data: { i } }));
  const entries = [];
  for await (const e of journal.read(offsets[2])) entries.push(e);
  assert.deepEqual(entries.map((e) => e.event), [2, 3, 4].map((i) => ({ kind: "state_changed", data: { i } })));
  assert.deepEqual(entries.map((e) => e.offset), offsets.slice(2));
  assert.equal((await journal.readAll()).length, 5);
});

test("parse validates and types what is read back; its errors propagate", async () => {
  const log = createMemoryAppendLog();
  const journal = createEventJournal(log, { parse: (v) => EventSchema.parse(v) });
  await journal.write({ kind: "run_started", data: {}, timestamp: "2026-01-01T00:00:00Z" });
  const [first] = await journal.readAll();
  assert.equal(first!.kind, "run_started");
  await journal.write({ kind: "not_an_event_kind", timestamp: "x" });
  await assert.rejects(journal.readAll(), /kind/);
});

test("records that are not journal records fail closed with their offset", async () => {
  const cases: Array<[string, string]> = [
    ["not json {", "corrupted"],
    ['{"event":{}}', "corrupted"],
    ['{"v":1,"event":[1]}', "corrupted"],
    ['{"v":2,"event":{}}', "unsupported"],
  ];
  for (const [text, code] of cases) {
    const log = createMemoryAppendLog();
    const journal = createEventJournal(log);
    await journal.write({ kind: "ok" });
    const offset = await log.append(enc(text));
    const err = await rejectsWith(() => journal.readAll(), code as "corrupted" | "unsupported", text);
    assert.equal(err.details?.offset, offset);
  }
  const bad = createMemoryAppendLog();
  await bad.append(Uint8Array.from([0xff, 0xfe]));
  await rejectsWith(() => createEventJournal(bad).readAll(), "corrupted", "invalid UTF-8");
});

test("events are written as versioned JSON records", async () => {
  const log = createMemoryAppendLog();
  await createEventJournal(log).write({ kind: "x", data: { s: "é" } });
  for await (const r of log.read()) assert.equal(new TextDecoder().decode(r.data), '{"v":1,"event":{"kind":"x","data":{"s":"é"}}}');
});

test("undefined properties are left out like optional fields; other non-JSON is refused", async () => {
  const journal = createEventJournal(createMemoryAppendLog());
  await journal.write({ kind: "x", run_id: undefined, data: { a: 1, b: undefined } });
  assert.deepEqual(await journal.readAll(), [{ kind: "x", data: { a: 1 } }]);
  await rejectsWith(() => journal.write({ kind: "x", data: [undefined] }), "invalid_input", "undefined in an array");
  await rejectsWith(() => journal.write({ kind: "x", at: new Date(0) }), "invalid_input", "a Date");
});
