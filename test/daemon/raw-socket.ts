// A raw WebSocket for conformance tests: sends exact frames, reads frames in arrival order.
import { decode, encode } from "@msgpack/msgpack";
import { WebSocket } from "ws";

export interface Frame {
  binary: boolean;
  /** The decoded envelope (JSON or MessagePack). */
  msg: Record<string, unknown>;
}

export class RawSocket {
  private readonly queue: Frame[] = [];
  private readonly waiters: Array<(f: Frame | undefined) => void> = [];
  private closeInfo: { code: number; reason: string } | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const msg = (isBinary ? decode(buf) : JSON.parse(buf.toString("utf8"))) as Record<string, unknown>;
      const f = { binary: isBinary, msg };
      const w = this.waiters.shift();
      if (w) w(f);
      else this.queue.push(f);
    });
    this.closed = new Promise((res) =>
      ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters.splice(0)) w(undefined);
        res(this.closeInfo);
      }),
    );
  }

  /** Opens a socket; rejects with the HTTP status when the upgrade is refused. */
  static open(url: string, headers: Record<string, string> = {}): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const sock = new RawSocket(ws);
      ws.once("open", () => resolve(sock));
      ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { status: res.statusCode })));
      ws.once("error", reject);
    });
  }

  get isClosed(): boolean {
    return this.closeInfo !== undefined;
  }

  /** Sends a text frame: an object as JSON, a string as is. */
  text(data: unknown): void {
    this.ws.send(typeof data === "string" ? data : JSON.stringify(data));
  }

  /** Sends a binary frame: an object as MessagePack, bytes as is. */
  binary(data: unknown): void {
    this.ws.send(data instanceof Uint8Array ? data : encode(data));
  }

  /** The next frame (rejects after `timeoutMs`, or when the socket closes first). */
  next(timeoutMs = 15_000): Promise<Frame> {
    const f = this.queue.shift();
    if (f) return Promise.resolve(f);
    if (this.closeInfo) return Promise.reject(new Error(`socket closed (${this.closeInfo.code})`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`no frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const w = (fr: Frame | undefined) => {
        clearTimeout(timer);
        if (fr) resolve(fr);
        else reject(new Error(`socket closed (${this.closeInfo?.code})`));
      };
      this.waiters.push(w);
    });
  }

  /** Sends a JSON request and returns the next frame's envelope. */
  async call(id: number | string, method: string, params?: unknown): Promise<Record<string, unknown>> {
    this.text({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });
    return (await this.next()).msg;
  }

  close(): void {
    this.ws.close();
  }
}
