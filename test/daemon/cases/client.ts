// CarClient itself on each runtime (Node 20 through the ws package, Bun and Deno through their global WebSocket).
import assert from "node:assert/strict";
import { test } from "node:test";
import { runScript, type RuntimeName } from "../harness.ts";
import type { Daemons } from "../helpers.ts";

export function clientCases(d: Daemons, rt: RuntimeName): void {
  test(`CarClient runs on ${rt}: CAR_DAEMON_URL, token file, submitProposal with onToolCall (JSON and MessagePack)`, async () => {
    for (const encoding of ["json", "msgpack"]) {
      const run = await runScript(rt, "test/daemon/client-smoke.ts", [encoding], { CAR_DAEMON_URL: d.auth.url, CAR_HOME: d.auth.carHome, CAR_AUTH_TOKEN: "" });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), { statuses: ["succeeded", "succeeded"], total: 5, auth: { ok: true, auth_enabled: true } });
    }
  });
}
