import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { CarError, ValidationError } from "../../src/errors.ts";
import { decodeFrame, encodeFrame, frameExceeds } from "../../src/protocol/codec.ts";
import { classify } from "../../src/protocol/envelope.ts";
import { RpcError, toRpcErrorObject } from "../../src/protocol/errors.ts";
import { MethodRegistry, defineMethod, parseParams } from "../../src/protocol/methods.ts";

test("classify: requests, notifications, responses", () => {
  assert.deepEqual(classify({ jsonrpc: "2.0", id: 1, method: "a.b", params: { x: 1 } }), { kind: "request", id: 1, method: "a.b", params: { x: 1 } });
  assert.deepEqual(classify({ jsonrpc: "2.0", id: null, method: "a" }), { kind: "request", id: null, method: "a", params: undefined });
  assert.deepEqual(classify({ jsonrpc: "2.0", method: "n" }), { kind: "notification", method: "n", params: undefined });
  assert.deepEqual(classify({ jsonrpc: "2.0", id: "cb-1", result: 5 }), { kind: "response", id: "cb-1", result: 5, error: undefined });
  const err = classify({ jsonrpc: "2.0", id: "cb-2", error: { code: 1, message: "m", data: 2 } });
  assert.deepEqual(err, { kind: "response", id: "cb-2", result: undefined, error: { code: 1, message: "m", data: 2 } });
});

test("classify: everything else is -32600 with the id when it can be read", () => {
  const cases: Array<[unknown, unknown]> = [
    [[{ jsonrpc: "2.0", id: 1, method: "a" }], null],
    ["text", null],
    [null, null],
    [{ jsonrpc: "1.0", id: 3, method: "a" }, 3],
    [{ id: 4, method: "a" }, 4],
    [{ jsonrpc: "2.0", id: 5, method: 7 }, 5],
    [{ jsonrpc: "2.0", id: 6, method: "a", params: 3 }, 6],
    [{ jsonrpc: "2.0", id: { x: 1 }, method: "a" }, null],
    [{ jsonrpc: "2.0", id: 8 }, 8],
    [{ jsonrpc: "2.0", result: 1 }, null],
    [{ jsonrpc: "2.0", id: 9, error: "bad" }, 9],
  ];
  for (const [msg, id] of cases) {
    const c = classify(msg);
    assert.equal(c.kind, "invalid", JSON.stringify(msg));
    if (c.kind === "invalid") {
      assert.equal(c.error.code, -32600);
      assert.equal(c.id, id, JSON.stringify(msg));
    }
  }
});

test("codecs: JSON text and MessagePack binary round-trip; garbage is -32700", () => {
  const msg = { jsonrpc: "2.0", id: 1, result: { a: [1, "x", null, true], b: { c: 1.5 } } };
  assert.deepEqual(decodeFrame(encodeFrame(msg, "json")), { encoding: "json", value: msg });
  const bin = encodeFrame({ ...msg, skip: undefined }, "msgpack");
  assert.ok(bin instanceof Uint8Array);
  assert.deepEqual(decodeFrame(bin), { encoding: "msgpack", value: msg });
  const b = bin as Uint8Array;
  assert.deepEqual(decodeFrame(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer).value, msg);
  const view = new Uint8Array(bin.length + 4);
  view.set(bin as Uint8Array, 2);
  assert.deepEqual(decodeFrame(view.subarray(2, 2 + bin.length)).value, msg);
  for (const bad of ["{", new Uint8Array([0xc1])]) {
    assert.throws(() => decodeFrame(bad), (e: unknown) => e instanceof RpcError && e.rpcCode === -32700);
  }
});

test("frameExceeds counts UTF-8 bytes of text frames", () => {
  assert.equal(frameExceeds("abc", 3), false);
  assert.equal(frameExceeds("abcd", 3), true);
  assert.equal(frameExceeds("é", 1), true); // 2 bytes
  assert.equal(frameExceeds("é", 2), false);
  assert.equal(frameExceeds("€", 2), true); // 3 bytes
  assert.equal(frameExceeds("😀", 4), false); // a surrogate pair: 4 bytes
  assert.equal(frameExceeds("😀", 3), true);
  assert.equal(frameExceeds(new Uint8Array(10), 9), true);
});

test("errors map to JSON-RPC codes with the CarError in data", () => {
  const v = toRpcErrorObject(new ValidationError("ir", "proposal", [{ path: "actions[0].type", message: "bad" }], "invalid_proposal"));
  assert.equal(v.code, -32602);
  assert.deepEqual((v.data as { issues: unknown }).issues, [{ path: "actions[0].type", message: "bad" }]);
  assert.equal((v.data as { car_code: string }).car_code, "invalid_proposal");
  assert.equal(toRpcErrorObject(new CarError("auth_required", "server", "auth required: x")).code, -32001);
  const internal = toRpcErrorObject(new CarError("storage_error", "storage:fs", "disk full"));
  assert.deepEqual([internal.code, internal.message], [-32603, "disk full"]);
  assert.deepEqual(toRpcErrorObject(new Error("plain")), { code: -32603, message: "plain" });
  assert.deepEqual(toRpcErrorObject(new RpcError(-32006, "protocol version mismatch: x", { a: 1 })), { code: -32006, message: "protocol version mismatch: x", data: { a: 1 } });
});

test("method registry: -32601 for unknown names, -32602 with zod issues for bad params", () => {
  const reg = new MethodRegistry<object>({ "a.b": defineMethod(z.object({ n: z.number() }), (p) => p.n + 1) });
  reg.add({ "c.d": defineMethod(z.object({}), () => "c") });
  assert.deepEqual(reg.names(), ["a.b", "c.d"]);
  assert.throws(() => reg.require("x.y"), (e: unknown) => e instanceof RpcError && e.rpcCode === -32601 && /x\.y/.test(e.message));
  const entry = reg.require("a.b");
  assert.deepEqual(parseParams("a.b", entry, { n: 1, extra: true }), { n: 1 });
  assert.deepEqual(parseParams("c.d", reg.require("c.d"), undefined), {});
  assert.throws(
    () => parseParams("a.b", entry, { n: "1" }),
    (e: unknown) => e instanceof RpcError && e.rpcCode === -32602 && (e.data as { issues: Array<{ path: unknown[] }> }).issues[0]!.path[0] === "n",
  );
});
