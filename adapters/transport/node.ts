import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { createNodeWebSocket } from "@hono/node-ws";
import { Hono } from "hono";
import type { Listener, Transport } from "../../src/server/transport.ts";

/** Node: `@hono/node-server` for HTTP, `@hono/node-ws` (the `ws` package) for WebSocket upgrades. */
export const nodeTransport: Transport = {
  name: "node",
  async listen({ host, port, maxMessageBytes }, build): Promise<Listener> {
    const root = new Hono();
    const nodeWs = createNodeWebSocket({ app: root });
    // ws closes the connection past maxPayload (default 100 MiB); keep it just above the protocol limit.
    nodeWs.wss.options.maxPayload = maxMessageBytes;
    root.route("/", build(nodeWs.upgradeWebSocket));
    const server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: root.fetch, hostname: host, port }, () => resolve(s as Server)) as Server;
      s.once("error", reject);
    });
    nodeWs.injectWebSocket(server);
    return {
      port: (server.address() as AddressInfo).port,
      stopAccepting: () => void server.close(),
      close: async () => {
        server.closeAllConnections();
        for (const ws of nodeWs.wss.clients) ws.terminate();
        await new Promise<void>((resolve) => nodeWs.wss.close(() => resolve()));
      },
    };
  },
};
