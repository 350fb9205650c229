import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { WSContext, WSEvents } from "hono/ws";
import type { MethodRegistry } from "../protocol/methods.ts";
import type { RawFrame } from "../protocol/codec.ts";
import type { Connection } from "./connection.ts";
import type { MethodContext } from "./context.ts";
import { ServerCore, type ServerCoreOptions } from "./core.ts";
import { httpRoutes } from "./http.ts";
import type { Metrics, MetricsGauges } from "./metrics.ts";
import { originAllowed } from "./origin.ts";
import type { ServerSettings } from "./settings.ts";
import type { WebSocketUpgrader } from "./transport.ts";

/** Options of `createApp`. */
export interface CreateAppOptions extends ServerCoreOptions {
  /** Without it the app serves HTTP only (e.g. as an edge `fetch` handler). */
  upgradeWebSocket?: WebSocketUpgrader;
}

/** A daemon: the Hono app plus what a runtime entry point needs to run and stop it. */
export interface CarServer {
  /** The Hono app: `GET /` (WebSocket), `GET /health`, `GET /metrics`, `POST /rpc`. */
  readonly app: Hono;
  /** The app's web-standard fetch handler. */
  readonly fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
  readonly settings: ServerSettings;
  /** The daemon token (undefined with auth off). */
  readonly token: string | undefined;
  readonly methods: MethodRegistry<MethodContext>;
  /** Open WebSocket sessions. */
  readonly connections: number;
  readonly shuttingDown: boolean;
  metrics(): Metrics & MetricsGauges;
  /** Refuses new work, lets running requests finish within the grace period, then closes every socket. */
  shutdown(options?: { graceMs?: number }): Promise<void>;
}

/** Builds the car-server Hono app (`car-server/server`). */
export function createApp(options: CreateAppOptions = {}): CarServer {
  const core = new ServerCore(options);
  const app = new Hono();
  app.get("/", upgradeGuard(core));
  if (options.upgradeWebSocket) app.get("/", options.upgradeWebSocket(() => socketEvents(core)));
  app.get("/", (c) => c.text("car-server speaks JSON-RPC 2.0 over a WebSocket at this address; see GET /health", 426, { upgrade: "websocket" }));
  httpRoutes(app, core);
  return {
    app,
    fetch: (request, env) => app.fetch(request, env),
    settings: core.settings,
    token: core.token,
    methods: core.registry,
    get connections() {
      return core.connectionCount;
    },
    get shuttingDown() {
      return core.shuttingDown;
    },
    metrics: () => core.snapshot(),
    shutdown: (o) => core.shutdown(o),
  };
}

/** Refuses an upgrade from a foreign page, past the connection limit, or while shutting down. */
function upgradeGuard(core: ServerCore): MiddlewareHandler {
  return async (c: Context, next) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return next();
    const origin = c.req.header("origin");
    if (!originAllowed(origin, core.settings.allowedOrigins)) {
      core.metrics.connectionsRefused++;
      core.log(`refused a WebSocket upgrade from origin ${origin}`);
      return c.text(`forbidden: origin ${origin} is not allowed (see allowedOrigins / --allow-origin)`, 403);
    }
    if (core.shuttingDown) {
      core.metrics.connectionsRefused++;
      return c.text("server shutting down", 503);
    }
    if (core.connectionCount >= core.settings.maxConnections) {
      core.metrics.connectionsRefused++;
      return c.text(`too many connections (max_connections ${core.settings.maxConnections})`, 503);
    }
    return next();
  };
}

/** Maps one socket's events onto a Connection. */
function socketEvents(core: ServerCore): WSEvents<unknown> {
  let conn: Connection | undefined;
  let refused = false;
  const ensure = (ws: WSContext<unknown>): Connection | undefined => {
    if (conn || refused) return conn;
    conn = core.openConnection({
      send: (data) => ws.send(data as string | Uint8Array<ArrayBuffer>),
      close: (code, reason) => ws.close(code, reason),
    });
    refused = conn === undefined;
    return conn;
  };
  return {
    onOpen: (_evt, ws) => void ensure(ws),
    onMessage: (evt, ws) => ensure(ws)?.receive(evt.data as RawFrame | Blob),
    onClose: () => conn?.handleClosed(),
    onError: (evt) => core.log(`socket error: ${String((evt as { error?: unknown }).error ?? evt.type)}`),
  };
}
