// car-server on Deno: `deno run -A runtimes/deno.ts [flags]` or `deno task serve`.
import { denoTransport } from "../adapters/transport/deno.ts";
import { runDaemon } from "./daemon.ts";

await runDaemon(denoTransport);
