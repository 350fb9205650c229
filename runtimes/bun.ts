// car-server on Bun: `bun runtimes/bun.ts [flags]`.
import { bunTransport } from "../adapters/transport/bun.ts";
import { runDaemon } from "./daemon.ts";

await runDaemon(bunTransport);
