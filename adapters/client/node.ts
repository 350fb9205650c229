import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { CarClient as BaseCarClient, type CarClientOptions, type WebSocketLike } from "../../src/client/index.ts";
import { readTokenFile, tokenFilePath } from "../auth/token-file.ts";

export * from "../../src/client/index.ts";

/** A global WebSocket where the runtime has one (Node ≥ 22, Bun, Deno), else the `ws` package (Node 20). */
export async function platformWebSocket(url: string): Promise<WebSocketLike> {
  const WS = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (WS) return new WS(url);
  const { WebSocket } = await import("ws");
  return new WebSocket(url) as unknown as WebSocketLike;
}

/** The token file of `CAR_HOME` (default `~/.car/auth-token`). */
export function defaultTokenLoader(env: Record<string, string | undefined> = process.env): () => Promise<string | undefined> {
  return () => readTokenFile(tokenFilePath(env["CAR_HOME"] || join(homedir(), ".car")));
}

/**
 * `CarClient` for Node, Bun and Deno (what `car-server/client` resolves to there): reads
 * `CAR_DAEMON_URL` and `CAR_AUTH_TOKEN` from the process environment, falls back to the token
 * file, and uses the `ws` package where no global WebSocket exists.
 */
export class CarClient extends BaseCarClient {
  constructor(options: CarClientOptions = {}) {
    const env = options.env ?? process.env;
    super({ ...options, env, tokenLoader: options.tokenLoader ?? defaultTokenLoader(env), webSocket: options.webSocket ?? platformWebSocket });
  }
}
