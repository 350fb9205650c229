// B4 — daemon round trips (BENCH.md): `proposal.submit` with one `tool_call` answered by the client
// over loopback WebSocket, sequential and with 64 in flight, against a bare `ws` echo doing the
// same exchange (2 round trips of the same frame sizes). `node --import tsx bench/systems/b4.ts json|msgpack`.
// The daemon and the echo each run in their own child; this process is the client. Rounds alternate
// between the two so both see the same machine load. B4_CPU_PROF=DIR profiles the daemon child.
import { daemonExchange, echoExchange, runWindow, Wire, type Encoding, type FrameSizes } from "../lib/b4-client.ts";
import { startDaemon, startEcho, type ServerChild } from "../lib/b4-servers.ts";
import { check, median, report } from "../lib/measure.ts";

const encoding = process.argv[2] as Encoding;
if (encoding !== "json" && encoding !== "msgpack") throw new Error("usage: b4.ts json|msgpack");
const rounds = Number(process.env["B4_ROUNDS"] ?? 7);
const modes = [
  { name: "seq", window: 1, n: 600 },
  { name: "64", window: 64, n: 3000 },
] as const;

const servers: ServerChild[] = [];
try {
  const prof = process.env["B4_CPU_PROF"];
  const daemon = await startDaemon(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []);
  servers.push(daemon);
  const dWire = await Wire.open(daemon.url, encoding);
  const ours = await daemonExchange(dWire);
  // Warm up the daemon, and record its frames for the echo to answer with.
  await runWindow(modes[1].n, 64, ours);
  await runWindow(modes[0].n, 1, ours);
  const echo = await startEcho(dWire.lastCallback, dWire.lastResponse, encoding === "msgpack");
  servers.push(echo);
  const eWire = await Wire.open(echo.url, encoding);
  const bare = echoExchange(eWire);
  await runWindow(modes[1].n, 64, bare);

  const times: Record<string, number[]> = {};
  // CPU time of the server child and of this client, summed over the rounds: on a shared machine
  // it says what each exchange costs even when wall time is noisy.
  const cpu: Record<string, { server: number; client: number }> = {};
  const sizes: Record<string, FrameSizes> = {};
  for (let r = 0; r < rounds; r++) {
    for (const m of modes) {
      for (const [sys, wire, one, server] of [["car-server", dWire, ours, daemon], ["ws-echo", eWire, bare, echo]] as const) {
        const before = wire.framesIn;
        const s0 = server.cpuMs();
        const c0 = process.cpuUsage();
        (times[`${sys}/${m.name}`] ??= []).push(await runWindow(m.n, m.window, one));
        const c = process.cpuUsage(c0);
        const acc = (cpu[`${sys}/${m.name}`] ??= { server: 0, client: 0 });
        acc.server += server.cpuMs() - s0;
        acc.client += (c.user + c.system) / 1000;
        check(wire.framesIn - before === 2 * m.n, `${sys}: ${2 * m.n} frames came back (${wire.framesIn - before})`);
        sizes[sys] = { ...wire.sizes };
      }
    }
  }
  dWire.close();
  eWire.close();
  for (const s of servers.splice(0)) await s.stop();

  for (const m of modes) {
    for (const sys of ["car-server", "ws-echo"]) {
      const runs = times[`${sys}/${m.name}`]!;
      const ms = median(runs);
      const sz = sizes[sys]!;
      const c = cpu[`${sys}/${m.name}`]!;
      const perExchange = (ms: number) => (ms * 1000) / (m.n * rounds);
      report({
        bench: `b4_${encoding}_${m.name}`,
        system: sys,
        median_ms: ms,
        runs,
        extra: { exchanges: m.n, round_trips_per_s: (2 * m.n * 1000) / ms, server_cpu_us: perExchange(c.server), client_cpu_us: perExchange(c.client), bytes_request: sz.request, bytes_callback: sz.callback, bytes_answer: sz.answer, bytes_response: sz.response },
      });
    }
  }
} finally {
  for (const s of servers) await s.stop().catch(() => {});
}
