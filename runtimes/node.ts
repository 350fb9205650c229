// car-server on Node: `node runtimes/node.ts` (through tsx) or `node dist/runtimes/node.js`.
import { nodeTransport } from "../adapters/transport/node.ts";
import { runDaemon } from "./daemon.ts";

await runDaemon(nodeTransport);
