// A Connection driven in-process through ServerCore with a recording socket: server→client calls
// given up through a subscription (ToolCall.onAbort), and many requests in flight at once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ServerCore } from "../../src/server/core.ts";
import type { Connection } from "../../src/server/connection.ts";
import { decodeFrame } from "../../src/protocol/codec.ts";

function open(): { conn: Connection; sent: Array<Record<string, unknown>> } {
  const core = new ServerCore({ settings: { auth: false } });
  const sent: Array<Record<string, unknown>> = [];
  const conn = core.openConnection({ send: (d) => void sent.push(JSON.parse(d as string) as Record<string, unknown>), close: () => {} })!;
  return { conn, sent };
}

const tick = () => new Promise((r) => setImmediate(r));

test("a call whose abort subscription fires before sending rejects with the reason and sends nothing", async () => {
  const { conn, sent } = open();
  const cancels: string[] = [];
  const gone = new Error("gone already");
  await assert.rejects(
    conn.call("tools.execute", {}, { subscribeAbort: (fn) => (fn(gone), () => {}), onCancel: (id) => void cancels.push(id) }),
    (e: unknown) => e === gone,
  );
  assert.deepEqual(sent, []);
  assert.deepEqual(cancels, []);
});

test("a call given up through its abort subscription unsubscribes, reports the reason, and ignores a late answer", async () => {
  const { conn, sent } = open();
  let fire: ((reason: unknown) => void) | undefined;
  let unsubscribed = 0;
  const cancels: Array<[string, string]> = [];
  const p = conn.call("tools.execute", { x: 1 }, {
    subscribeAbort: (fn) => ((fire = fn), () => void unsubscribed++),
    onCancel: (id, reason) => void cancels.push([id, reason]),
  });
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!["method"], "tools.execute");
  fire!(new Error("[car:timeout/engine] action a1 timed out"));
  await assert.rejects(p, /timed out/);
  assert.deepEqual(cancels, [[sent[0]!["id"], "action a1 timed out"]]);
  assert.equal(unsubscribed, 1);
  conn.receive(JSON.stringify({ jsonrpc: "2.0", id: sent[0]!["id"], result: 1 })); // late: ignored
});

test("64 proposals in flight on one connection all succeed, with no listener-leak warning", async () => {
  const { conn, sent } = open();
  const warnings: string[] = [];
  const onWarning = (w: Error) => void warnings.push(`${w.name}: ${w.message}`);
  process.on("warning", onWarning);
  try {
    conn.receive(JSON.stringify({ jsonrpc: "2.0", id: "reg", method: "tools.register", params: [{ name: "echo" }] }));
    for (let i = 0; i < 64; i++) {
      conn.receive(JSON.stringify({ jsonrpc: "2.0", id: i, method: "proposal.submit", params: { proposal: { actions: [{ id: "a", type: "tool_call", tool: "echo", parameters: { i } }] } } }));
    }
    for (let t = 0; t < 20 && sent.filter((m) => m["method"] === "tools.execute").length < 64; t++) await tick();
    const calls = sent.filter((m) => m["method"] === "tools.execute");
    assert.equal(calls.length, 64);
    for (const c of calls) conn.receive(JSON.stringify({ jsonrpc: "2.0", id: c["id"], result: { got: (c["params"] as { parameters: { i: number } }).parameters.i } }));
    for (let t = 0; t < 20 && sent.filter((m) => typeof m["id"] === "number").length < 64; t++) await tick();
    const answers = sent.filter((m) => typeof m["id"] === "number") as Array<{ id: number; result: { results: Array<{ status: string; output: { got: number } }> } }>;
    assert.equal(answers.length, 64);
    for (const a of answers) assert.deepEqual([a.result.results[0]!.status, a.result.results[0]!.output.got], ["succeeded", a.id]);
    await tick();
    assert.deepEqual(warnings, []);
  } finally {
    process.off("warning", onWarning);
  }
});

test("a binary frame that cannot be read is answered with a parse error, and the frames queued after it still run", async () => {
  const core = new ServerCore({ settings: { auth: false } });
  const sent: Array<Record<string, unknown>> = [];
  const conn = core.openConnection({ send: (d) => void sent.push(decodeFrame(d).value as Record<string, unknown>), close: () => {} })!;
  const unreadable = new Blob([new Uint8Array([1])]);
  Object.defineProperty(unreadable, "arrayBuffer", { value: () => Promise.reject(new Error("stream reset")) });
  const received: unknown[] = [];
  const onUnhandled = (r: unknown) => void received.push(r);
  process.on("unhandledRejection", onUnhandled);
  try {
    conn.receive(unreadable);
    conn.receive(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "server.nope" }));
    for (let i = 0; i < 20 && sent.length < 2; i++) await tick();
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
  assert.deepEqual(received, []);
  assert.equal(sent.length, 2);
  assert.equal((sent[0]!["error"] as { code: number }).code, -32700);
  assert.match(String((sent[0]!["error"] as { message: string }).message), /could not be read \(stream reset\)/);
  assert.equal(sent[1]!["id"], 1);
  assert.equal((sent[1]!["error"] as { code: number }).code, -32601);
});
