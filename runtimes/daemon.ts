import { homedir } from "node:os";
import process from "node:process";
import { removeTokenFileSync, tokenFilePath, writeTokenFile } from "../adapters/auth/token-file.ts";
import { SERVER_VERSION } from "../src/protocol/version.ts";
import { createApp, type CarServer } from "../src/server/app.ts";
import { featureMethods, featureSessionSetup } from "../src/server/features.ts";
import { openDaemonServices } from "./services.ts";
import { isLoopback, resolveSettings } from "../src/server/settings.ts";
import { transportMessageLimit, type Listener, type Transport } from "../src/server/transport.ts";
import { parseDaemonArgs, UsageError, USAGE } from "./cli-args.ts";
import { runReplay } from "./replay-cli.ts";

/** `ws://HOST:PORT/`, with IPv6 hosts in brackets. */
export function wsUrl(host: string, port: number): string {
  return `ws://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}/`;
}

/**
 * Runs the daemon on a transport until SIGINT/SIGTERM: parses flags and `CAR_*` variables, mints
 * the token and writes it 0600 to `$CAR_HOME/auth-token`, prints the listening line, and on a
 * signal stops accepting, lets running requests finish within the grace period, closes every
 * socket and removes the token file. A second signal exits at once. `replay JOURNAL` replays a
 * session journal instead (runtimes/replay-cli.ts).
 */
export async function runDaemon(transport: Transport, argv: string[] = process.argv.slice(2)): Promise<void> {
  const fail = (status: number, message: string): never => {
    process.stderr.write(`car-server: ${message}\n`);
    process.exit(status);
  };
  if (argv[0] === "replay") {
    const status = await runReplay(argv.slice(1));
    // Set, not exit(): stdout (possibly a pipe) is flushed before the process ends.
    process.exitCode = status;
    return;
  }
  let config;
  try {
    config = parseDaemonArgs(argv, process.env, homedir());
  } catch (err) {
    if (err instanceof UsageError) return fail(2, `${err.message}\n${USAGE}`);
    throw err;
  }
  if (config.help) return void process.stdout.write(USAGE);
  if (config.version) return void process.stdout.write(`car-server ${SERVER_VERSION}\n`);

  let settings;
  try {
    settings = resolveSettings(config.settings);
  } catch (err) {
    return fail(2, (err as Error).message.replace(/^\[car:[^\]]*\] /, ""));
  }
  if (!settings.auth && !isLoopback(settings.host)) {
    return fail(2, `refusing to listen on ${settings.host} with auth disabled: --no-auth is only allowed on a loopback address (127.0.0.1, ::1, localhost)`);
  }

  let services;
  try {
    services = await openDaemonServices(config);
  } catch (err) {
    // A bad --policy file is a configuration error (2); storage that cannot open is not (1).
    return fail(err instanceof UsageError ? 2 : 1, (err as Error).message.replace(/^\[car:[^\]]*\] /, ""));
  }
  const methods = featureMethods(services);
  const sessionOpened = featureSessionSetup(services);

  let server: CarServer | undefined;
  const log = (line: string) => void process.stderr.write(`car-server: ${line}\n`);
  let listener: Listener;
  try {
    listener = await transport.listen({ host: settings.host, port: settings.port, maxMessageBytes: transportMessageLimit(settings.maxFrameBytes) }, (upgradeWebSocket) => {
      server = createApp({ settings, upgradeWebSocket, log, methods, hooks: { sessionOpened }, ...(services.journalFor ? { journalFor: (s) => services.journalFor!(s.id) } : {}) });
      return server.app;
    });
  } catch (err) {
    return fail(1, `cannot listen on ${settings.host}:${settings.port}: ${(err as Error).message}`);
  }
  if (!server) return fail(1, `the ${transport.name} transport did not build the app`);
  const daemon: CarServer = server;

  const tokenPath = tokenFilePath(config.carHome);
  const token = daemon.token;
  if (token !== undefined) {
    try {
      await writeTokenFile(tokenPath, token);
    } catch (err) {
      await listener.close();
      return fail(1, `cannot write the token file ${tokenPath}: ${(err as Error).message}`);
    }
  }
  process.stdout.write(`car-server listening on ${wsUrl(settings.host, listener.port)}\n`);
  process.stdout.write(token !== undefined ? `auth token file: ${tokenPath}\n` : "auth disabled\n");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      // A second signal: no more waiting.
      if (token !== undefined) removeTokenFileSync(tokenPath, token);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`car-server: ${signal}: shutting down (grace ${settings.shutdownGraceMs} ms)\n`);
    let status = 0;
    try {
      listener.stopAccepting();
      await daemon.shutdown();
      await listener.close();
      await services.close();
    } catch (err) {
      log(`shutdown failed: ${(err as Error).message}`);
      status = 1;
    } finally {
      if (token !== undefined) removeTokenFileSync(tokenPath, token);
    }
    process.exit(status);
  };
  // One session's stray failure must not take every other session down with it.
  process.on("unhandledRejection", (reason) => log(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`));
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}
