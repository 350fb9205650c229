// The server in-process on Node (createApp + the Node transport): limits, feature tables, hooks, reconnect.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { z } from "zod";
import { CarClient } from "../../adapters/client/node.ts";
import { nodeTransport } from "../../adapters/transport/node.ts";
import { createApp, type CarServer, type CreateAppOptions } from "../../src/server/app.ts";
import { method, type Session } from "../../src/server/context.ts";
import type { Listener } from "../../src/server/transport.ts";
import { expectError, expectResult } from "../daemon/helpers.ts";
import { RawSocket } from "../daemon/raw-socket.ts";

interface Running {
  server: CarServer;
  listener: Listener;
  url: string;
  stop(): Promise<void>;
}

const running = new Set<Running>();
after(async () => {
  for (const r of running) await r.stop();
});

async function serve(options: CreateAppOptions = {}, port = 0): Promise<Running> {
  let server!: CarServer;
  const listener = await nodeTransport.listen({ host: "127.0.0.1", port, maxMessageBytes: 1 << 20 }, (upgradeWebSocket) => {
    server = createApp({ ...options, upgradeWebSocket, settings: { auth: false, ...options.settings } });
    return server.app;
  });
  const r: Running = {
    server,
    listener,
    url: `ws://127.0.0.1:${listener.port}/`,
    stop: async () => {
      running.delete(r);
      listener.stopAccepting();
      await server.shutdown({ graceMs: 0 });
      await listener.close();
    },
  };
  running.add(r);
  return r;
}

/** Polls `cond` every 10 ms, up to 5 s (for state that settles on the other side of a socket). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond());
}

test("past max_in_flight a request is answered 'overloaded' until one finishes", async () => {
  const r = await serve({ settings: { maxInFlightPerConnection: 1 } });
  const s = await RawSocket.open(r.url);
  expectResult(await s.call(1, "tools.register", [{ name: "hold" }]), 1);
  s.text({ jsonrpc: "2.0", id: 2, method: "proposal.submit", params: { proposal: { actions: [{ id: "h", type: "tool_call", tool: "hold" }] } } });
  const cb = (await s.next()).msg;
  const err = expectError(await s.call(3, "state.keys"), -32603, 3);
  assert.equal((err.data as { car_code: string }).car_code, "overloaded");
  s.text({ jsonrpc: "2.0", id: cb["id"], result: 1 });
  expectResult((await s.next()).msg, 2);
  assert.deepEqual(expectResult(await s.call(4, "state.keys"), 4), []);
  s.close();
  await r.stop();
});

test("past max_connections an upgrade is refused with 503", async () => {
  const r = await serve({ settings: { maxConnections: 1 } });
  const a = await RawSocket.open(r.url);
  await assert.rejects(RawSocket.open(r.url), (e: { status?: number }) => e.status === 503);
  a.close();
  await until(() => r.server.connections === 0);
  const b = await RawSocket.open(r.url);
  assert.deepEqual(expectResult(await b.call(1, "state.keys"), 1), []);
  b.close();
  assert.equal(r.server.metrics().connectionsRefused, 1);
  await r.stop();
});

test("feature tables plug in: handshake-only and WebSocket-only methods, session hooks, policy delegation", async () => {
  const opened: string[] = [];
  const closed: string[] = [];
  const registered: unknown[] = [];
  const r = await serve({
    hooks: { sessionOpened: (s: Session) => opened.push(s.transport), sessionClosed: (s: Session) => closed.push(s.transport) },
    methods: [
      {
        "demo.echo": method(z.object({ x: z.number() }), (p, ctx) => ({ x: p.x, same_session: ctx.sessionId === ctx.session.id })),
        "demo.secure": method(z.object({}), () => "secret", { requiresHandshake: true }),
        "demo.ws_only": method(z.object({}), () => "ws", { http: false }),
        "policy.register": method(z.object({ name: z.string() }).passthrough(), (p) => (registered.push(p), { registered: p.name })),
      },
    ],
  });
  const s = await RawSocket.open(r.url);
  assert.deepEqual(expectResult(await s.call(1, "demo.echo", { x: 3 }), 1), { x: 3, same_session: true });
  expectError(await s.call(2, "demo.secure", {}), -32005, 2);
  expectResult(await s.call(3, "server.handshake", { protocol_version: 2 }), 3);
  assert.equal(expectResult(await s.call(4, "demo.secure", {}), 4), "secret");
  const init = expectResult(await s.call(5, "session.init", { tools: [{ name: "t" }], policies: [{ name: "no_rm", rule: "deny_tool", target: "t" }] }), 5) as Record<string, unknown>;
  assert.deepEqual([init["tools_registered"], init["policies_registered"]], [1, 1]);
  assert.deepEqual(registered, [{ name: "no_rm", rule: "deny_tool", target: "t" }]);
  s.text({ jsonrpc: "2.0", method: "state.set", params: { key: "via-notification", value: 1 } });
  assert.equal(expectResult(await s.call(6, "state.get", { key: "via-notification" }), 6), 1);
  s.close();
  const http = `http://127.0.0.1:${r.listener.port}/rpc`;
  const ws = await fetch(http, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "demo.ws_only" }) });
  expectError((await ws.json()) as Record<string, unknown>, -32601, 1);
  const tool = await fetch(http, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "proposal.submit", params: { proposal: { actions: [{ id: "a", type: "tool_call", tool: "none" }] } } }) });
  assert.equal(((await tool.json()) as { result: { results: Array<{ status: string }> } }).result.results[0]!.status, "failed");
  await until(() => closed.includes("websocket"));
  assert.deepEqual(opened.sort(), ["http", "http", "websocket"]);
  await r.stop();
});

test("createApp without a WebSocket upgrader serves HTTP only (edge fetch handler)", async () => {
  const app = createApp({ token: "t".repeat(43) });
  assert.equal(app.token, "t".repeat(43));
  assert.equal((await app.fetch(new Request("http://x/"))).status, 426);
  assert.equal((await app.fetch(new Request("http://x/health"))).status, 200);
  const res = await app.fetch(new Request("http://x/rpc", { method: "POST", headers: { authorization: `Bearer ${"t".repeat(43)}` }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "state.keys" }) }));
  assert.deepEqual(await res.json(), { jsonrpc: "2.0", id: 1, result: [] });
  const note = await app.fetch(new Request("http://x/rpc", { method: "POST", headers: { authorization: `Bearer ${"t".repeat(43)}` }, body: JSON.stringify({ jsonrpc: "2.0", method: "state.keys" }) }));
  assert.equal(note.status, 204);
  const small = createApp({ settings: { auth: false, maxFrameBytes: 100 } });
  const big = await small.fetch(new Request("http://x/rpc", { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "state.set", params: { key: "k", value: "v".repeat(200) } }) }));
  assert.equal(big.status, 413);
  expectError((await big.json()) as Record<string, unknown>, -32600, null);
  const foreign = await small.fetch(new Request("http://x/metrics", { headers: { origin: "https://evil.example" } }));
  assert.equal(foreign.status, 403);
});

test("CarClient reconnects after the daemon restarts on the same port; onReconnect re-registers", async () => {
  const first = await serve();
  const port = first.listener.port;
  let reconnected!: () => void;
  const back = new Promise<void>((r) => (reconnected = r));
  const client: CarClient = new CarClient({
    url: first.url,
    env: {},
    reconnect: { retries: 40, delayMs: 25 },
    onReconnect: async () => {
      await client.toolsRegister([{ name: "again" }]);
      reconnected();
    },
  });
  try {
    await client.stateSet("k", 1);
    await first.stop();
    const second = await serve({}, port);
    await back;
    assert.deepEqual((await client.toolsList()).tools.map((t) => t.name), ["again"]);
    assert.equal(await client.stateGet("k"), null);
    await second.stop();
  } finally {
    client.close();
  }
});

test("POST /rpc: a result that cannot be encoded is answered -32603 under the request's id", async () => {
  const app = createApp({ settings: { auth: false }, methods: [{ "demo.big": method(z.object({}), () => ({ n: 1n })) }] });
  const res = await app.fetch(new Request("http://x/rpc", { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "demo.big" }) }));
  expectError((await res.json()) as Record<string, unknown>, -32603, 7);
});
