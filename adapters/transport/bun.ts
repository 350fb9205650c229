import { upgradeWebSocket, websocket } from "hono/bun";
import type { Listener, Transport, WebSocketUpgrader } from "../../src/server/transport.ts";

/** The part of Bun's server API this adapter uses. */
interface BunServer {
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}
declare const Bun: {
  serve(options: {
    hostname: string;
    port: number;
    fetch: (req: Request, server: BunServer) => Response | Promise<Response>;
    websocket: typeof websocket & { maxPayloadLength: number; idleTimeout?: number };
    idleTimeout?: number;
  }): BunServer;
};

/** Bun: `Bun.serve` with Hono's `hono/bun` WebSocket helper. */
export const bunTransport: Transport = {
  name: "bun",
  async listen({ host, port, maxMessageBytes }, build): Promise<Listener> {
    const upgrader: WebSocketUpgrader = upgradeWebSocket;
    const app = build(upgrader);
    const server = Bun.serve({
      hostname: host,
      port,
      fetch: (req, srv) => app.fetch(req, srv),
      // Bun's default per-message cap is 16 MiB and closes the socket past it.
      websocket: { ...websocket, maxPayloadLength: maxMessageBytes, idleTimeout: 0 },
      // Long-running POST /rpc calls must not hit Bun's 10 s HTTP idle timeout.
      idleTimeout: 0,
    });
    return {
      port: server.port,
      stopAccepting: () => void server.stop(false),
      close: async () => void (await server.stop(true)),
    };
  },
};
