// The memory feature table in-process: the inference hook of DaemonServices, scope changes, HTTP sessions.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { nodeTransport } from "../../adapters/transport/node.ts";
import { createMemoryStorage } from "../../adapters/storage/memory.ts";
import { storageFileStore } from "../../src/memgine/file-store.ts";
import { Scheduler } from "../../src/scheduler/scheduler.ts";
import { MemoryRegistry } from "../../src/memgine/registry.ts";
import { createApp, type CarServer } from "../../src/server/app.ts";
import { featureMethods, type DaemonServices } from "../../src/server/features.ts";
import { sessionMemoryScope } from "../../src/server/methods/memory.ts";
import { expectError, expectResult } from "../daemon/helpers.ts";
import { RawSocket } from "../daemon/raw-socket.ts";

const stops: Array<() => Promise<void>> = [];
after(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function serve(): Promise<{ services: DaemonServices; url: string; http: string }> {
  const storage = createMemoryStorage();
  const services: DaemonServices = { storage, memory: new MemoryRegistry(storage, { files: storageFileStore(storage) }), scheduler: new Scheduler({ storage }) };
  let server!: CarServer;
  const listener = await nodeTransport.listen({ host: "127.0.0.1", port: 0, maxMessageBytes: 1 << 20 }, (upgradeWebSocket) => {
    server = createApp({ upgradeWebSocket, settings: { auth: false }, methods: featureMethods(services) });
    return server.app;
  });
  stops.push(async () => {
    listener.stopAccepting();
    await server.shutdown({ graceMs: 0 });
    await listener.close();
  });
  return { services, url: `ws://127.0.0.1:${listener.port}/`, http: `http://127.0.0.1:${listener.port}/rpc` };
}

test("sessionMemoryScope: namespace, agent id, or neither (shared)", () => {
  assert.deepEqual(sessionMemoryScope({ memoryNamespace: "p", agentId: "a" }), { memory_namespace: "p", agent_id: "a" });
  assert.deepEqual(sessionMemoryScope({ memoryNamespace: undefined, agentId: undefined }), { memory_namespace: null, agent_id: null });
});

test("DaemonServices.infer: unset → unsupported over the wire; set later → repair/distill/evolve use it; cleared → unsupported again", async () => {
  const { services, url } = await serve();
  const s = await RawSocket.open(url);
  expectResult(await s.call(1, "skill.ingest", { name: "click_login", code: "click('#login')", domain: "web" }), 1);
  const none = expectError(await s.call(2, "skill.repair", { name: "click_login" }), -32603, 2);
  assert.equal((none.data as { car_code: string }).car_code, "unsupported");
  assert.match(none.message, /skill repair needs an inference function; none is configured/);

  const prompts: string[] = [];
  services.infer = async (prompt) => {
    prompts.push(prompt);
    if (prompt.includes("Reply with only the repaired code")) return "```js\nclick('#sign-in')\n```";
    return JSON.stringify([{ name: "open_menu", code: "click('#menu')", description: "open the menu", domain: "web" }]);
  };
  assert.equal(expectResult(await s.call(3, "skill.repair", { name: "click_login" }), 3), "click('#sign-in')");
  const distilled = expectResult(await s.call(4, "skills.distill", { events: [{ kind: "action_failed", action_id: "a1", tool: "click" }] }), 4) as Array<{ name: string }>;
  assert.deepEqual(distilled.map((d) => d.name), ["open_menu"]);
  const evolved = expectResult(await s.call(41, "skills.evolve", { events: [], domain: "web" }), 41) as Array<{ name: string }>;
  assert.deepEqual(evolved.map((d) => d.name), ["open_menu"]);
  const listed = expectResult(await s.call(42, "skills.list", { domain: "web" }), 42) as Array<{ name: string }>;
  assert.deepEqual(listed.map((x) => x.name).sort(), ["click_login", "open_menu"]);
  assert.equal(prompts.length, 3);

  services.infer = undefined;
  const again = expectError(await s.call(5, "skills.distill", { events: [] }), -32603, 5);
  assert.equal((again.data as { car_code: string }).car_code, "unsupported");
  s.close();
});

test("a second session.auth moves the connection to the new namespace; HTTP requests use the shared graph", async () => {
  const { url, http } = await serve();
  const s = await RawSocket.open(url);
  expectResult(await s.call(1, "session.auth", { token: "x", memory_namespace: "one" }), 1);
  assert.equal(expectResult(await s.call(2, "memory.add_fact", { subject: "where", body: "namespace one" }), 2), 1);
  expectResult(await s.call(3, "session.auth", { token: "x", memory_namespace: "two" }), 3);
  assert.equal(expectResult(await s.call(4, "memory.fact_count", {}), 4), 0);
  expectResult(await s.call(5, "session.auth", { token: "x", memory_namespace: "one" }), 5);
  assert.equal(expectResult(await s.call(6, "memory.fact_count", {}), 6), 1);
  s.close();

  const shared = await RawSocket.open(url);
  assert.equal(expectResult(await shared.call(1, "memory.add_fact", { subject: "shared", body: "visible over HTTP" }), 1), 1);
  shared.close();
  const res = await fetch(http, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "memory.query", params: { query: "shared HTTP" } }) });
  const rows = expectResult((await res.json()) as Record<string, unknown>, 9) as Array<{ body: string }>;
  assert.deepEqual(rows.map((r) => r.body), ["visible over HTTP"]);
});
