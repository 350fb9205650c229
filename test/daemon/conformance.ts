// The daemon conformance suite: every runtime's daemon, started as a child process, must pass it.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { daemonCommand, startDaemon, type Daemon, type RuntimeName } from "./harness.ts";
import type { Daemons } from "./helpers.ts";
import { authCases } from "./cases/auth.ts";
import { callbackCases } from "./cases/callbacks.ts";
import { clientCases } from "./cases/client.ts";
import { memoryCases } from "./cases/memory.ts";
import { multiCases, multiDeadlineCases } from "./cases/multi.ts";
import { governanceCases } from "./cases/governance.ts";
import { inferenceCases } from "./cases/inference.ts";
import { journalCases } from "./cases/journal.ts";
import { noAuthCases } from "./cases/no-auth.ts";
import { protocolCases } from "./cases/protocol.ts";
import { schedulerCases } from "./cases/scheduler.ts";
import { STRICT_FLAGS, strictCases } from "./cases/strict.ts";

/** Registers the whole suite for `rt`; skipped with its reason when the runtime's binary is missing. */
export function daemonConformance(rt: RuntimeName): void {
  const command = daemonCommand(rt);
  const skip = "skip" in command ? command.skip : false;
  describe(`car-server daemon on ${rt}`, { skip, timeout: 180_000 }, () => {
    const d = {} as Daemons;
    const started: Daemon[] = [];
    before(async () => {
      // Three daemons, started together and shared by every case.
      const all = await Promise.allSettled([startDaemon(rt, ["--allow-origin", "http://localhost:5173"]), startDaemon(rt, ["--no-auth"]), startDaemon(rt, STRICT_FLAGS)]);
      for (const r of all) if (r.status === "fulfilled") started.push(r.value);
      const failed = all.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      [d.auth, d.open, d.strict] = started as [Daemon, Daemon, Daemon];
    });
    after(async () => {
      await Promise.all(started.map((x) => x.dispose()));
    });

    describe("auth", () => authCases(d));
    describe("protocol", () => protocolCases(d));
    describe("tool callbacks", () => callbackCases(d));
    describe("CarClient", () => clientCases(d, rt));
    describe("--no-auth", () => noAuthCases(d, rt));
    describe("memory and skills", () => memoryCases(d, rt));
    describe("multi-agent and scheduler", () => (multiCases(d), multiDeadlineCases(d), schedulerCases(rt)));
    describe("governance and verification", () => governanceCases(d, rt));
    describe("limits and shutdown", () => strictCases(d));
    describe("inference (--model)", () => inferenceCases(rt));
    describe("session journals", () => journalCases(rt));

    test("SIGINT stops the daemon cleanly and removes its token file", async () => {
      assert.equal(await d.auth.stop("SIGINT"), 0);
      assert.equal(existsSync(join(d.auth.carHome, "auth-token")), false);
      assert.doesNotMatch(d.auth.stderr() + d.open.stderr(), /internal error|unhandled|TypeError/i);
    });
  });
}
