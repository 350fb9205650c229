// B4's baseline: a bare `ws` server that answers every frame with one frame, nothing else. It does
// the exchange the daemon does for one `proposal.submit` with one client-answered tool call — a
// request frame is answered with a recorded `tools.execute` frame, the callback answer with a
// recorded response frame: same count, same sizes, same encoding, but no JSON-RPC and no runtime.
// The recorded frames come as JSON on stdin: {binary, callback: base64, response: base64}.
import { text } from "node:stream/consumers";
import { WebSocketServer } from "ws";

const cfg = JSON.parse(await text(process.stdin)) as { binary: boolean; callback: string; response: string };
const asFrame = (b64: string): string | Buffer => (cfg.binary ? Buffer.from(b64, "base64") : Buffer.from(b64, "base64").toString("utf8"));
const callback = asFrame(cfg.callback);
const response = asFrame(cfg.response);
// The one thing the echo looks at: whether a frame is the request (it names the method) or the answer.
const marker = Buffer.from("proposal.submit");

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
wss.on("connection", (ws) => {
  ws.on("message", (data: Buffer) => ws.send(data.indexOf(marker) >= 0 ? callback : response));
});
wss.on("listening", () => {
  const addr = wss.address();
  if (addr === null || typeof addr === "string") throw new Error("unexpected address");
  process.stdout.write(`ws-echo listening on ws://127.0.0.1:${addr.port}/\n`);
});
process.on("SIGTERM", () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
});
