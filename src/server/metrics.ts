/** Counters the daemon keeps; `GET /metrics` shows them. */
export interface Metrics {
  connectionsOpened: number;
  connectionsRefused: number;
  framesIn: number;
  framesOut: number;
  framesRejected: number;
  requests: number;
  errors: number;
  overloaded: number;
  authFailures: number;
  callbacks: number;
  callbackTimeouts: number;
  httpRequests: number;
}

/** A zeroed set of counters. */
export function newMetrics(): Metrics {
  return {
    connectionsOpened: 0,
    connectionsRefused: 0,
    framesIn: 0,
    framesOut: 0,
    framesRejected: 0,
    requests: 0,
    errors: 0,
    overloaded: 0,
    authFailures: 0,
    callbacks: 0,
    callbackTimeouts: 0,
    httpRequests: 0,
  };
}

/** Gauges sampled when metrics are read. */
export interface MetricsGauges {
  connections: number;
  inFlight: number;
  uptimeSeconds: number;
}

const HELP: Record<keyof Metrics, string> = {
  connectionsOpened: "WebSocket connections accepted",
  connectionsRefused: "WebSocket upgrades refused (origin, limit, shutdown)",
  framesIn: "frames received",
  framesOut: "frames sent",
  framesRejected: "frames answered with a protocol error (parse, invalid, oversized)",
  requests: "requests and notifications dispatched",
  errors: "requests answered with an error",
  overloaded: "requests refused because too many were in flight",
  authFailures: "frames refused for lack of authentication",
  callbacks: "server-to-client requests sent (tools.execute, ...)",
  callbackTimeouts: "server-to-client requests that timed out",
  httpRequests: "POST /rpc requests",
};

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Prometheus text exposition of the counters and gauges. */
export function renderPrometheus(m: Metrics, g: MetricsGauges): string {
  const lines: string[] = [];
  for (const [k, help] of Object.entries(HELP) as Array<[keyof Metrics, string]>) {
    const name = `car_${snake(k)}_total`;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${m[k]}`);
  }
  for (const [k, v] of Object.entries(g)) {
    const name = `car_${snake(k)}`;
    lines.push(`# TYPE ${name} gauge`, `${name} ${v}`);
  }
  return lines.join("\n") + "\n";
}
