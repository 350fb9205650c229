import { isAbsolute, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { ServerSettingsInput } from "../src/server/settings.ts";

/** A command line the daemon refuses (exit status 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** `--journal`: fsync each journal write, write without fsync (default), or keep no journal. */
export const JOURNAL_MODES = ["fsync", "buffered", "off"] as const;
export type JournalMode = (typeof JOURNAL_MODES)[number];

/** What the command line and environment ask for. */
export interface DaemonConfig {
  settings: ServerSettingsInput;
  carHome: string;
  /** Keep daemon-wide state in memory instead of under CAR_HOME (lost at exit). */
  ephemeral: boolean;
  /** `--policy` files and directories (absolute), loaded at start on top of `$CAR_HOME/policies`. */
  policyPaths: string[];
  /** `--model` folders (absolute) or URLs to register for this run. */
  models: string[];
  /** How session journals are written under `$CAR_HOME/journals` (none with `--ephemeral`). */
  journal: JournalMode;
  help: boolean;
  version: boolean;
}

export const USAGE = `usage: car-server [options]

  --host HOST             address to listen on (default 127.0.0.1; non-loopback needs auth)
  --port N                port, 0 for any free one (default 9100, env CAR_PORT)
  --no-auth               accept clients without a token (env CAR_NO_AUTH=1); loopback only
  --car-home DIR          state directory: auth-token, state/, journals/ (default ~/.car, env CAR_HOME)
  --ephemeral             keep memory, tasks and checkpoints in memory only, no journals (env CAR_EPHEMERAL=1)
  --journal MODE          session journals in $CAR_HOME/journals: buffered (default; written before each
                          answer, no fsync: survives a daemon crash, not a power loss), fsync (durable
                          before each answer), off
                          (env CAR_JOURNAL)
  --allow-origin ORIGIN   let pages from ORIGIN connect (repeatable; env CAR_ALLOWED_ORIGINS=a,b)
  --max-frame-bytes N     largest frame accepted (default 16 MiB, env CAR_MAX_FRAME_BYTES)
  --max-connections N     open WebSocket connections (default 256, env CAR_MAX_CONNECTIONS)
  --max-in-flight N       requests running per connection (default 128, env CAR_MAX_IN_FLIGHT)
  --max-session-events N  events a session keeps in memory (default 10000, env CAR_MAX_SESSION_EVENTS)
  --tool-timeout SECS     wait for a tools.execute answer (default 300, env CAR_TOOL_TIMEOUT)
  --handler-timeout SECS  request deadline, answered -32004 (default 1800, env CAR_HANDLER_TIMEOUT)
  --deadline-grace SECS   added to proposal.submit deadlines (default 15, env CAR_DEADLINE_GRACE)
  --shutdown-grace SECS   time running requests get on SIGINT/SIGTERM (default 10, env CAR_SHUTDOWN_GRACE)
  --require-handshake     every method needs server.handshake first (env CAR_REQUIRE_HANDSHAKE=1)
  --policy PATH           load a policy file, or every *.toml/*.json of a directory, for every
                          session (repeatable; $CAR_HOME/policies is always loaded; bad file: exit 2)
  --model DIR             serve the Hugging Face model folder DIR (or an http(s) URL of one) as model
                          id = its folder name (repeatable; not persisted)
  --help, --version

usage: car-server replay JOURNAL
  replays a session journal ($CAR_HOME/journals/<session-id>.log), e.g. one a killed daemon left,
  without calling any tool; prints {journal, events, results, final_state, divergences, unfinished}
  as JSON; exit 0 when it matched the recording, 1 when it diverged or could not be read
`;

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());

function int(name: string, raw: string | undefined, min = 0): number | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

function seconds(name: string, raw: string | undefined, allowZero = false): number | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new UsageError(`${name} must be a ${allowZero ? "non-negative" : "positive"} number of seconds, got ${JSON.stringify(raw)}`);
  return Math.round(n * 1000);
}

/** Reads flags (which win) and `CAR_*` variables into daemon settings. Throws UsageError on bad input. */
export function parseDaemonArgs(argv: string[], env: Record<string, string | undefined>, homedir: string): DaemonConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        "no-auth": { type: "boolean" },
        "car-home": { type: "string" },
        ephemeral: { type: "boolean" },
        "allow-origin": { type: "string", multiple: true },
        "max-frame-bytes": { type: "string" },
        "max-connections": { type: "string" },
        "max-in-flight": { type: "string" },
        "max-session-events": { type: "string" },
        "tool-timeout": { type: "string" },
        "handler-timeout": { type: "string" },
        "deadline-grace": { type: "string" },
        "shutdown-grace": { type: "string" },
        "require-handshake": { type: "boolean" },
        policy: { type: "string", multiple: true },
        model: { type: "string", multiple: true },
        journal: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  let carHome: string;
  if (values["car-home"] !== undefined) carHome = resolve(values["car-home"]);
  else if (env["CAR_HOME"] !== undefined && env["CAR_HOME"] !== "") {
    if (!isAbsolute(env["CAR_HOME"])) throw new UsageError(`CAR_HOME must be an absolute path, got ${JSON.stringify(env["CAR_HOME"])}`);
    carHome = env["CAR_HOME"];
  } else carHome = join(homedir, ".car");

  const origins = values["allow-origin"] ?? (env["CAR_ALLOWED_ORIGINS"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const settings: ServerSettingsInput = {
    host: values.host ?? "127.0.0.1",
    port: int("--port", values.port) ?? int("CAR_PORT", env["CAR_PORT"]) ?? 9100,
    auth: !(values["no-auth"] === true || truthy(env["CAR_NO_AUTH"])),
    allowedOrigins: origins,
    maxFrameBytes: int("--max-frame-bytes", values["max-frame-bytes"], 1) ?? int("CAR_MAX_FRAME_BYTES", env["CAR_MAX_FRAME_BYTES"], 1),
    maxConnections: int("--max-connections", values["max-connections"], 1) ?? int("CAR_MAX_CONNECTIONS", env["CAR_MAX_CONNECTIONS"], 1),
    maxInFlightPerConnection: int("--max-in-flight", values["max-in-flight"], 1) ?? int("CAR_MAX_IN_FLIGHT", env["CAR_MAX_IN_FLIGHT"], 1),
    maxSessionEvents: int("--max-session-events", values["max-session-events"], 1) ?? int("CAR_MAX_SESSION_EVENTS", env["CAR_MAX_SESSION_EVENTS"], 1),
    toolTimeoutMs: seconds("--tool-timeout", values["tool-timeout"]) ?? seconds("CAR_TOOL_TIMEOUT", env["CAR_TOOL_TIMEOUT"]),
    handlerTimeoutMs: seconds("--handler-timeout", values["handler-timeout"]) ?? seconds("CAR_HANDLER_TIMEOUT", env["CAR_HANDLER_TIMEOUT"]),
    deadlineGraceMs: seconds("--deadline-grace", values["deadline-grace"], true) ?? seconds("CAR_DEADLINE_GRACE", env["CAR_DEADLINE_GRACE"], true),
    shutdownGraceMs: seconds("--shutdown-grace", values["shutdown-grace"], true) ?? seconds("CAR_SHUTDOWN_GRACE", env["CAR_SHUTDOWN_GRACE"], true),
    requireHandshake: values["require-handshake"] === true || truthy(env["CAR_REQUIRE_HANDSHAKE"]),
  };
  for (const k of Object.keys(settings) as Array<keyof ServerSettingsInput>) if (settings[k] === undefined) delete settings[k];
  const ephemeral = values.ephemeral === true || truthy(env["CAR_EPHEMERAL"]);
  const policyPaths = (values.policy ?? []).map((p) => resolve(p));
  const models = (values.model ?? []).map((m) => (/^https?:\/\//i.test(m) ? m : resolve(m)));
  const journal = values.journal ?? (env["CAR_JOURNAL"] || "buffered");
  if (!(JOURNAL_MODES as readonly string[]).includes(journal)) throw new UsageError(`--journal must be one of ${JOURNAL_MODES.join(", ")}, got ${JSON.stringify(journal)}`);
  return { settings, carHome, ephemeral, policyPaths, models, journal: journal as JournalMode, help: values.help === true, version: values.version === true };
}
