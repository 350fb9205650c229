/**
 * Headless Chromium for the browser tests: the system's /usr/bin/chromium (Debian package
 * `chromium`; `CAR_CHROMIUM` overrides the path) driven by playwright-core, which never downloads
 * a browser. Pages come from a small HTTP server on 127.0.0.1.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

const wanted = () => process.env["CAR_CHROMIUM"] || "/usr/bin/chromium";

/** The Chromium binary, or undefined when there is none. */
export function chromiumPath(): string | undefined {
  return existsSync(wanted()) ? wanted() : undefined;
}

/** Why the browser tests are skipped here, or false. */
export function chromiumSkipReason(): string | false {
  return chromiumPath() ? false : `no Chromium at ${wanted()} (apt-get install -y chromium, or set CAR_CHROMIUM to its path)`;
}

/**
 * The flags used here: headless without a sandbox (root in CI), no GPU process, no network
 * chatter to Google (the machine has no outside network), WebGPU on its CPU adapter (SwiftShader).
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--enable-unsafe-webgpu",
];

export interface Chromium {
  context: BrowserContext;
  page: Page;
  /** Console lines and page errors, for failure messages. */
  log: string[];
  close(): Promise<void>;
}

/** Starts Chromium with a fresh profile directory and opens one page. */
export async function launchChromium(): Promise<Chromium> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(chromiumSkipReason() as string);
  const profile = await mkdtemp(join(tmpdir(), "car-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const log: string[] = [];
  page.on("console", (m) => log.push(`[${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => log.push(`[pageerror] ${e.message}`));
  return {
    context,
    page,
    log,
    async close() {
      try {
        await context.close();
      } finally {
        await rm(profile, { recursive: true, force: true });
      }
    },
  };
}

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".json": "application/json" };

/**
 * Serves `files` (path → text) on 127.0.0.1, and under `/static/<name>/` the folders in
 * `folders` (read-only, no path outside them).
 */
export async function servePages(files: Map<string, string>, folders: Record<string, string> = {}): Promise<PageServer> {
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const text = files.get(path === "/" ? "/index.html" : path);
    if (text !== undefined) {
      const ext = path === "/" ? ".html" : path.slice(path.lastIndexOf("."));
      res.writeHead(200, { "content-type": TYPES[ext] ?? "application/octet-stream", "cache-control": "no-store" });
      res.end(text);
      return;
    }
    const m = /^\/static\/([^/]+)\/(.*)$/.exec(path);
    const base = m ? folders[m[1]!] : undefined;
    const rel = m ? normalize(m[2]!) : "";
    if (base && !rel.startsWith("..")) {
      try {
        const body = await readFile(join(base, rel));
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.byteLength });
        res.end(body);
        return;
      } catch {
        // falls through to 404
      }
    }
    res.writeHead(404).end("not found");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** An HTML page loading one ES module. */
export function modulePage(script: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>car-server test</title></head><body><script type="module" src="${script}"></script></body></html>`;
}
