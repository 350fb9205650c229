#!/usr/bin/env node
// The `car-server` bin: runs the daemon on whichever runtime executes this file.
import { getRuntimeKey } from "hono/adapter";

const key = getRuntimeKey();
if (key === "bun") await import("./bun.ts");
else if (key === "deno") await import("./deno.ts");
else await import("./node.ts");
