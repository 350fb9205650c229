/** Serves a folder read-only on 127.0.0.1 (port 0) for the URL loading path. */
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { join, normalize } from "node:path";

export async function serveFolder(dir: string): Promise<{ url: string; close(): Promise<void>; requests: string[] }> {
  const requests: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    requests.push(path);
    try {
      const body = await readFile(join(dir, path));
      res.writeHead(200, { "content-length": body.byteLength, "content-type": "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
