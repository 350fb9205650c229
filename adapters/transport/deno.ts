import { upgradeWebSocket } from "hono/deno";
import type { WSContext } from "hono/ws";
import type { Listener, Transport, WebSocketUpgrader } from "../../src/server/transport.ts";

/** The part of Deno's server API this adapter uses. */
interface DenoHttpServer {
  shutdown(): Promise<void>;
}
declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen?: (addr: { port: number; hostname: string }) => void },
    handler: (req: Request, info: unknown) => Response | Promise<Response>,
  ): DenoHttpServer;
};

/** Deno's server sockets hand binary frames over as Blobs unless told otherwise. */
const arrayBufferUpgrader: WebSocketUpgrader = (createEvents) =>
  upgradeWebSocket(async (c) => {
    const events = await createEvents(c);
    return {
      ...events,
      onOpen: (evt: Event, ws: WSContext<WebSocket>) => {
        if (ws.raw) ws.raw.binaryType = "arraybuffer";
        events.onOpen?.(evt, ws);
      },
    };
  });

/** Deno: `Deno.serve` with Hono's `hono/deno` WebSocket helper. Deno caps one message at 64 MiB itself. */
export const denoTransport: Transport = {
  name: "deno",
  async listen({ host, port }, build): Promise<Listener> {
    const app = build(arrayBufferUpgrader);
    let shuttingDown: Promise<void> | undefined;
    let listening: (port: number) => void = () => {};
    const bound = new Promise<number>((resolve) => (listening = resolve));
    const server = Deno.serve({ hostname: host, port, onListen: (addr) => listening(addr.port) }, (req, info) => app.fetch(req, info));
    const boundPort = await bound;
    return {
      port: boundPort,
      // Deno's shutdown() also closes upgraded WebSockets (1001) at once, which would cut off the
      // requests the grace period is for; the app refuses new connections itself meanwhile (503).
      stopAccepting: () => {},
      close: async () => {
        shuttingDown ??= server.shutdown();
        // shutdown() waits for open connections; the daemon closed its sockets already, so cap the wait.
        let capped: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([shuttingDown, new Promise((r) => (capped = setTimeout(r, 1000)))]);
        // A pending cap would keep the process alive for up to a second after close.
        clearTimeout(capped);
      },
    };
  },
};
