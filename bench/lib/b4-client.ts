// B4's client: a lean `ws` client doing the same encode/decode work against the daemon and the echo.
import { Decoder, Encoder } from "@msgpack/msgpack";
import WebSocket from "ws";
import { check } from "./measure.ts";

export type Encoding = "json" | "msgpack";

interface Msg {
  id?: string | number;
  method?: string;
  params?: { parameters?: { n?: number } };
  result?: { results?: Array<{ status?: string; output?: { echo?: number } }> };
  error?: { message?: string };
}

/** Byte sizes of the four frames of one exchange, as last seen. */
export interface FrameSizes {
  request: number;
  callback: number;
  answer: number;
  response: number;
}

const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

/** One WebSocket connection speaking JSON-RPC envelopes in text (JSON) or binary (MessagePack) frames. */
export class Wire {
  readonly sizes: FrameSizes = { request: 0, callback: 0, answer: 0, response: 0 };
  /** The raw bytes of the last `tools.execute` and response frames (what the echo will answer with). */
  lastCallback: Uint8Array = new Uint8Array();
  lastResponse: Uint8Array = new Uint8Array();
  framesIn = 0;
  private handler: (msg: Msg) => void = () => {};

  private constructor(
    private readonly ws: WebSocket,
    readonly encoding: Encoding,
  ) {
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      this.framesIn++;
      const msg = (isBinary ? decoder.decode(data) : JSON.parse(data.toString("utf8"))) as Msg;
      if (msg.method === "tools.execute") {
        this.sizes.callback = data.byteLength;
        this.lastCallback = data;
      } else {
        this.sizes.response = data.byteLength;
        this.lastResponse = data;
      }
      this.handler(msg);
    });
  }

  /** Opens a connection. */
  static open(url: string, encoding: Encoding): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once("open", () => resolve(new Wire(ws, encoding)));
      ws.once("error", reject);
    });
  }

  onMessage(fn: (msg: Msg) => void): void {
    this.handler = fn;
  }

  send(msg: object, kind: "request" | "answer"): void {
    if (this.encoding === "json") {
      const s = JSON.stringify(msg);
      this.sizes[kind] = Buffer.byteLength(s);
      this.ws.send(s);
    } else {
      const b = encoder.encode(msg);
      this.sizes[kind] = b.byteLength;
      this.ws.send(b);
    }
  }

  close(): void {
    this.ws.close();
  }
}

/** Runs `n` exchanges with at most `window` in flight; resolves with the wall milliseconds. */
export function runWindow(n: number, window: number, one: (k: number) => Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    const t0 = performance.now();
    const launch = (): void => {
      const k = next++;
      one(k).then(() => {
        if (++done === n) resolve(performance.now() - t0);
        else if (next < n) launch();
      }, reject);
    };
    for (let i = 0; i < Math.min(window, n); i++) launch();
  });
}

const submit = (id: number, n: number) => ({
  jsonrpc: "2.0",
  id,
  method: "proposal.submit",
  params: { proposal: { actions: [{ id: "a1", type: "tool_call", tool: "echo", parameters: { n } }] } },
});
const answer = (id: string | number | undefined, n: number | undefined) => ({ jsonrpc: "2.0", id, result: { echo: n } });

/**
 * The daemon side: `proposal.submit` of one `tool_call` whose tool the client runs (it answers
 * `tools.execute` with `{echo: n}`); each proposal must succeed with exactly that output.
 */
export async function daemonExchange(wire: Wire): Promise<(k: number) => Promise<void>> {
  const pending = new Map<string | number, (m: Msg) => void>();
  let nextId = 1;
  wire.onMessage((m) => {
    if (m.method === "tools.execute") return wire.send(answer(m.id, m.params?.parameters?.n), "answer");
    const p = pending.get(m.id!);
    if (!p) throw new Error(`unexpected frame ${JSON.stringify(m)}`);
    pending.delete(m.id!);
    p(m);
  });
  const request = (method: string, params: unknown) =>
    new Promise<Msg>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      wire.send({ jsonrpc: "2.0", id, method, params }, "request");
    });
  const reg = await request("tools.register", [{ name: "echo", description: "answered by the benchmark client" }]);
  check(reg.result === (1 as unknown), `tools.register answered ${JSON.stringify(reg)}`);
  return (k) =>
    new Promise<void>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, (m) => {
        const r = m.result?.results?.[0];
        if (m.result?.results?.length === 1 && r?.status === "succeeded" && r.output?.echo === k) resolve();
        else reject(new Error(`benchmark check failed: proposal ${k} did not succeed with the tool's output: ${JSON.stringify(m)}`));
      });
      wire.send(submit(id, k), "request");
    });
}

/**
 * The echo side: the same frames out, the recorded frames back, in order (the echo answers in
 * arrival order, so replies are matched first-in first-out); each exchange must get a
 * `tools.execute` and then a response.
 */
export function echoExchange(wire: Wire): (k: number) => Promise<void> {
  const waiting: Array<(m: Msg) => void> = [];
  let nextId = 1;
  wire.onMessage((m) => waiting.shift()!(m));
  const next = () => new Promise<Msg>((resolve) => waiting.push(resolve));
  return async (k) => {
    const got = next();
    wire.send(submit(nextId++, k), "request");
    const cb = await got;
    check(cb.method === "tools.execute", "echo answered the request with the callback frame");
    const res = next();
    wire.send(answer(cb.id, k), "answer");
    const r = await res;
    check(r.result?.results?.[0]?.status === "succeeded", "echo answered the tool answer with the response frame");
  };
}
