import { test } from "node:test";
import assert from "node:assert/strict";
import { createMemoryAppendLog } from "../../adapters/storage/memory.ts";
import { createApp } from "../../src/server/app.ts";

test("POST /rpc sessions are not journaled (a file per request would grow without bound)", async () => {
  const asked: string[] = [];
  const app = createApp({ settings: { auth: false }, journalFor: (s) => (asked.push(s.id), createMemoryAppendLog()) });
  for (let i = 0; i < 3; i++) {
    const res = await app.fetch(new Request("http://127.0.0.1/rpc", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "state.set", params: { key: "k", value: i } }) }));
    assert.equal(res.status, 200);
    const body = (await res.json()) as { result?: unknown; error?: unknown };
    assert.equal(body.error, undefined, JSON.stringify(body));
  }
  assert.deepEqual(asked, []);
  await app.shutdown({ graceMs: 0 });
});
