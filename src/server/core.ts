import { sleep, systemClock, type Clock } from "../engine/clock.ts";
import { systemRandom, uuidFrom, type Random } from "../engine/random.ts";
import { Runtime } from "../engine/runtime.ts";
import type { AppendLog } from "../storage/storage.ts";
import { MethodRegistry } from "../protocol/methods.ts";
import { SERVER_VERSION } from "../protocol/version.ts";
import { mintToken, tokensEqual } from "./auth.ts";
import { Connection, CloseCode, type SocketSink } from "./connection.ts";
import type { MethodContext, ServerInfo, ServerMethodTable, Session } from "./context.ts";
import { HttpSession } from "./http-session.ts";
import { coreMethods } from "./methods/index.ts";
import { newMetrics, type Metrics, type MetricsGauges } from "./metrics.ts";
import { resolveSettings, type ServerSettings, type ServerSettingsInput } from "./settings.ts";
import { remoteToolExecutor } from "./tool-callback.ts";

/** Options of `createApp`. */
export interface ServerCoreOptions {
  settings?: ServerSettingsInput;
  /** The daemon token when auth is on; minted when absent (read it back from `server.token`). */
  token?: string;
  /** Feature modules' method tables, added after (and able to replace) the core methods. */
  methods?: ServerMethodTable[];
  /** Builds each session's Runtime (default `new Runtime({clock, random, maxEvents: maxSessionEvents, journal})`); the daemon installs its tool executor. */
  createRuntime?: (session: Session) => Runtime;
  /**
   * The journal of a session's default Runtime (durable execution, docs/durability.md), or
   * undefined for none. It is closed when the session ends, after its running proposals finish.
   */
  journalFor?: (session: Session) => AppendLog | undefined;
  clock?: Clock;
  random?: Random;
  /** Reported as `server_version`. */
  version?: string;
  /** Where diagnostics go (default: nowhere). */
  log?: (line: string) => void;
  /** Called when a session starts and ends (both transports). */
  hooks?: { sessionOpened?(session: Session): void; sessionClosed?(session: Session): void };
}

/** The transport-independent state of a daemon: sessions, limits, auth, counters, shutdown. */
export class ServerCore {
  readonly settings: ServerSettings;
  readonly registry: MethodRegistry<MethodContext>;
  readonly metrics: Metrics = newMetrics();
  readonly info: ServerInfo;
  readonly token: string | undefined;
  readonly clock: Clock;
  readonly log: (line: string) => void;
  private readonly random: Random;
  private readonly connections = new Set<Connection>();
  private readonly httpRunning = new Set<Promise<unknown>>();
  private readonly options: ServerCoreOptions;
  private readonly started: number;
  private stopping: Promise<void> | undefined;
  private readonly closingJournals = new Set<Promise<void>>();

  constructor(options: ServerCoreOptions = {}) {
    this.options = options;
    this.settings = resolveSettings(options.settings);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.log = options.log ?? (() => {});
    this.registry = new MethodRegistry<MethodContext>(coreMethods(), ...(options.methods ?? []));
    this.token = this.settings.auth ? (options.token ?? mintToken(this.random)) : undefined;
    this.started = this.clock.now();
    const token = this.token;
    this.info = {
      settings: this.settings,
      version: options.version ?? SERVER_VERSION,
      authEnabled: this.settings.auth,
      checkToken: (t) => token === undefined || tokensEqual(t, token),
    };
  }

  get shuttingDown(): boolean {
    return this.stopping !== undefined;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Builds a session's Runtime and plugs in the tool executor of its transport. */
  private createRuntime = (session: Session): Runtime => {
    const rt = this.options.createRuntime?.(session) ?? this.defaultRuntime(session);
    if (session.transport === "websocket") rt.setToolExecutor(remoteToolExecutor(session, this.settings.toolTimeoutMs));
    else rt.setToolExecutor({ execute: (call) => session.call(`tools.execute (${call.tool})`, {}) });
    return rt;
  };

  /**
   * A session's Runtime, journaled when `journalFor` gives it a journal (closed with the session).
   * Only WebSocket sessions journal: a `POST /rpc` session lives for one request, and a file per
   * request would fill the disk under a busy HTTP client.
   */
  private defaultRuntime(session: Session): Runtime {
    const journal = session.transport === "websocket" ? this.options.journalFor?.(session) : undefined;
    const rt = new Runtime({ clock: this.clock, random: this.random, maxEvents: this.settings.maxSessionEvents, eventTags: { client_id: session.id }, ...(journal ? { journal } : {}) });
    if (journal) {
      session.onClose(() => {
        const closing = rt
          .closeJournal()
          .finally(() => journal.close())
          .catch((err: unknown) => this.log(`closing the journal of session ${session.id} failed: ${(err as Error).message}`))
          .finally(() => void this.closingJournals.delete(closing));
        this.closingJournals.add(closing);
      });
    }
    return rt;
  }

  /** Starts a session on a freshly opened socket; refuses it past the connection limit. */
  openConnection(socket: SocketSink): Connection | undefined {
    if (this.shuttingDown || this.connections.size >= this.settings.maxConnections) {
      this.metrics.connectionsRefused++;
      socket.close(CloseCode.TryAgainLater, this.shuttingDown ? "server shutting down" : "too many connections");
      return undefined;
    }
    const conn = new Connection(
      {
        registry: this.registry,
        server: this.info,
        clock: this.clock,
        metrics: this.metrics,
        sessionId: uuidFrom(this.random),
        createRuntime: this.createRuntime,
        isShuttingDown: () => this.shuttingDown,
        log: this.log,
        onClosed: (c) => {
          this.connections.delete(c);
          this.options.hooks?.sessionClosed?.(c);
        },
      },
      socket,
    );
    this.connections.add(conn);
    this.metrics.connectionsOpened++;
    this.options.hooks?.sessionOpened?.(conn);
    return conn;
  }

  /** A one-request session for `POST /rpc`; `track` keeps shutdown waiting for its answer. */
  openHttpSession(): HttpSession {
    const s = new HttpSession(uuidFrom(this.random), this.createRuntime);
    this.options.hooks?.sessionOpened?.(s);
    return s;
  }

  /** Ends an HTTP session. */
  closeHttpSession(s: HttpSession): void {
    s.end();
    this.options.hooks?.sessionClosed?.(s);
  }

  /** Keeps shutdown waiting until `p` settles. */
  track<T>(p: Promise<T>): Promise<T> {
    const settled = p.then(
      () => void this.httpRunning.delete(settled),
      () => void this.httpRunning.delete(settled),
    );
    this.httpRunning.add(settled);
    return p;
  }

  /** Counters plus current gauges. */
  snapshot(): Metrics & MetricsGauges {
    let inFlight = this.httpRunning.size;
    for (const c of this.connections) inFlight += c.inFlight;
    return { ...this.metrics, connections: this.connections.size, inFlight, uptimeSeconds: Math.max(0, (this.clock.now() - this.started) / 1000) };
  }

  /**
   * Stops taking work: new connections and requests are refused, running requests get up to
   * `graceMs` (default `shutdownGraceMs`) to finish, then every socket closes (1001) and, within
   * the same grace, the sessions' journals are closed.
   */
  shutdown(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= (async () => {
      const grace = options.graceMs ?? this.settings.shutdownGraceMs;
      const ctl = new AbortController();
      const timeUp = sleep(this.clock, grace, ctl.signal).catch(() => {});
      const drained = Promise.all([...[...this.connections].map((c) => c.drain()), ...this.httpRunning]);
      await Promise.race([drained, timeUp]);
      for (const c of [...this.connections]) c.close(CloseCode.GoingAway, "server shutting down");
      // Journals close once their sessions' proposals (cancelled by the close) have finished, within the same grace.
      await Promise.race([Promise.all([...this.closingJournals]), timeUp]);
      ctl.abort();
    })();
    return this.stopping;
  }
}
