/**
 * What @mlc-ai/web-llm expects from a browser and Node lacks: `location` and the Cache API
 * (`caches`). Installed only by the web-llm adapter, only when missing. The cache keeps fetched
 * artifacts in memory for the life of the process.
 */

class MemoryCache {
  private readonly entries = new Map<string, { body: ArrayBuffer; status: number; headers: [string, string][] }>();

  async match(req: RequestInfo | URL): Promise<Response | undefined> {
    const e = this.entries.get(urlOf(req));
    return e ? new Response(e.body.slice(0), { status: e.status, headers: e.headers }) : undefined;
  }

  async add(req: RequestInfo | URL): Promise<void> {
    const url = urlOf(req);
    const res = await fetch(req instanceof Request ? req : url);
    if (!res.ok) {
      await res.body?.cancel();
      throw new TypeError(`Cannot fetch ${url}: HTTP ${res.status}`);
    }
    await this.put(url, res);
  }

  async put(req: RequestInfo | URL, res: Response): Promise<void> {
    this.entries.set(urlOf(req), { body: await res.arrayBuffer(), status: res.status, headers: [...res.headers] });
  }

  async delete(req: RequestInfo | URL): Promise<boolean> {
    return this.entries.delete(urlOf(req));
  }

  async keys(): Promise<Request[]> {
    return [...this.entries.keys()].map((u) => new Request(u));
  }
}

function urlOf(req: RequestInfo | URL): string {
  return req instanceof Request ? req.url : String(req);
}

class MemoryCacheStorage {
  private readonly caches = new Map<string, MemoryCache>();
  async open(name: string): Promise<MemoryCache> {
    let c = this.caches.get(name);
    if (!c) this.caches.set(name, (c = new MemoryCache()));
    return c;
  }
  async has(name: string): Promise<boolean> {
    return this.caches.has(name);
  }
  async delete(name: string): Promise<boolean> {
    return this.caches.delete(name);
  }
  async keys(): Promise<string[]> {
    return [...this.caches.keys()];
  }
}

/** Installs `location` and `caches` where missing (Node, Bun); a no-op in browsers. */
export function installWebLlmShims(origin = "http://127.0.0.1/"): void {
  const g = globalThis as Record<string, unknown>;
  if (g.location === undefined) Object.defineProperty(globalThis, "location", { value: new URL(origin), configurable: true, writable: true });
  if (g.caches === undefined) Object.defineProperty(globalThis, "caches", { value: new MemoryCacheStorage(), configurable: true, writable: true });
}
