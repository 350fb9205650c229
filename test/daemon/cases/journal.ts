// Session journals under $CAR_HOME/journals: a killed daemon's journal replays after a restart (`car-server replay`).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CarClient } from "../../../adapters/client/node.ts";
import type { ProposalResult } from "../../../src/ir/results.ts";
import { runScript, startDaemon, type Daemon, type RuntimeName } from "../harness.ts";
import { waitFor } from "./multi.ts";

const ENTRY: Record<RuntimeName, string> = { node: "runtimes/node.ts", bun: "runtimes/bun.ts", deno: "runtimes/deno.ts" };

const add = (call: { params?: Record<string, unknown> }) => {
  if (call.params?.["fail"]) throw new Error("add refused");
  return Number(call.params?.["a"]) + Number(call.params?.["b"]);
};

/** What a replay must reproduce of a result (timings aside). */
const strip = (r: ProposalResult) => ({
  proposal_id: r.proposal_id,
  results: r.results.map(({ action_id, status, output, error, state_changes, rolled_back }) => ({ action_id, status, output, error, state_changes, rolled_back: rolled_back ?? false })),
  tool_calls: r.cost.tool_calls,
});

interface ReplayOut {
  journal: string;
  events: number;
  results: ProposalResult[];
  final_state: Record<string, unknown>;
  divergences: unknown[];
  unfinished: Array<{ proposal_id: string; recorded: string[] }>;
}

export function journalCases(rt: RuntimeName): void {
  test("a killed daemon's session journals (fsync and buffered) replay after a restart: same results and final state; the proposal the kill cut is listed", async () => {
    const home = mkdtempSync(join(tmpdir(), `car-journal-${rt}-`));
    const journals = join(home, "journals");
    const daemons: Daemon[] = [];
    const clients: CarClient[] = [];
    const client = (d: Daemon) => {
      const c = new CarClient({ url: d.url, env: { CAR_HOME: home }, reconnect: false });
      clients.push(c);
      return c;
    };
    try {
      const d1 = await startDaemon(rt, ["--car-home", home, "--journal", "fsync"]);
      daemons.push(d1);

      // Session A ends cleanly: its journal is closed with it.
      const a = client(d1);
      const idA = (await a.sessionInit({ tools: [{ name: "add" }] })).session_id;
      const quiet = client(d1);
      const idQuiet = (await quiet.sessionInit({ tools: [] })).session_id;
      const rA = await a.submitProposal({ id: "a-sum", actions: [{ id: "sum", type: "tool_call", tool: "add", parameters: { a: 1, b: 1 } }, { id: "keep", type: "state_write", parameters: { key: "two", value: "$sum.output" }, dependencies: ["sum"] }] }, { onToolCall: add });
      const stateA = await a.stateSnapshot();
      a.close();
      quiet.close();
      await waitFor(() => existsSync(join(journals, `${idA}.log`)) && !existsSync(join(journals, `${idA}.log.lock`)), "session A's journal to close");

      // Session B is running a proposal when the daemon is killed.
      const b = client(d1);
      const idB = (await b.sessionInit({ tools: [{ name: "add" }, { name: "wait" }] })).session_id;
      const r1 = await b.submitProposal({ id: "p-sum", actions: [{ id: "sum", type: "tool_call", tool: "add", parameters: { a: 2, b: 3 } }, { id: "save", type: "state_write", parameters: { key: "total", value: "$sum.output" }, dependencies: ["sum"] }] }, { onToolCall: add });
      assert.equal(await b.stateSet("note", { text: "héllo", n: [1, null] }), "ok");
      const r2 = await b.submitProposal({ id: "p-fail", actions: [{ id: "zero", type: "state_write", parameters: { key: "total", value: 0 } }, { id: "boom", type: "tool_call", tool: "add", parameters: { fail: true }, dependencies: ["zero"] }] }, { onToolCall: add });
      assert.deepEqual(r2.results.map((r) => [r.action_id, r.status, r.rolled_back ?? false]), [["zero", "succeeded", true], ["boom", "failed", false]]);
      const stateB = await b.stateSnapshot();
      let reached!: () => void;
      const waiting = new Promise<void>((r) => (reached = r));
      void b.submitProposal({ id: "p-cut", actions: [{ id: "mark", type: "state_write", parameters: { key: "cut", value: true } }, { id: "hold", type: "tool_call", tool: "wait", dependencies: ["mark"] }] }, { onToolCall: () => (reached(), new Promise(() => {})) }).catch(() => {});
      await waiting;
      d1.proc.kill("SIGKILL");
      await d1.exited;

      // A daemon with --journal buffered (no fsync) is killed too: what it answered is in its journal.
      const d2 = await startDaemon(rt, ["--car-home", home, "--journal", "buffered"]);
      daemons.push(d2);
      const cc = client(d2);
      const idC = (await cc.sessionInit({ tools: [{ name: "add" }] })).session_id;
      await cc.stateSet("k", "buffered");
      const rC = await cc.submitProposal({ id: "c-sum", actions: [{ id: "sum", type: "tool_call", tool: "add", parameters: { a: 4, b: 4 } }] }, { onToolCall: add });
      const stateC = await cc.stateSnapshot();
      d2.proc.kill("SIGKILL");
      await d2.exited;

      // The restarted daemon (journals off) takes over the dead daemons' locks and starts.
      const d3 = await startDaemon(rt, ["--car-home", home, "--journal", "off"]);
      daemons.push(d3);
      await client(d3).stateSet("k", 1);
      assert.deepEqual(readdirSync(journals).filter((f) => f.endsWith(".log")).sort(), [idA, idB, idC].map((id) => `${id}.log`).sort(), "one journal per session that recorded something; none with --journal off");
      assert.equal(existsSync(join(journals, `${idQuiet}.log`)), false);

      const replay = async (id: string): Promise<ReplayOut> => {
        const run = await runScript(rt, ENTRY[rt], ["replay", join(journals, `${id}.log`)], { CAR_HOME: home });
        assert.equal(run.code, 0, `replay of ${id} exited ${run.code}: ${run.stderr}`);
        return JSON.parse(run.stdout) as ReplayOut;
      };
      const outA = await replay(idA);
      assert.deepEqual(outA.results.map(strip), [strip(rA)]);
      assert.deepEqual(outA.final_state, stateA);
      assert.deepEqual([outA.divergences, outA.unfinished], [[], []]);

      const outB = await replay(idB);
      assert.deepEqual(outB.results.map(strip), [strip(r1), strip(r2)], "the replay reproduces every completed result");
      assert.deepEqual(outB.final_state, stateB, "and the final state (the cut proposal rolled back)");
      assert.deepEqual(outB.divergences, []);
      assert.deepEqual(outB.unfinished, [{ proposal_id: "p-cut", recorded: ["mark"] }]);
      assert.ok(outB.events > 10);

      const outC = await replay(idC);
      assert.deepEqual([outC.results.map(strip), outC.final_state, outC.divergences], [[strip(rC)], stateC, []]);

      const bad = await runScript(rt, ENTRY[rt], ["replay", join(journals, "nope.log.missing-dir", "x.log")], { CAR_HOME: home });
      assert.equal(bad.code, 1);
    } finally {
      for (const c of clients) c.close();
      await Promise.all(daemons.map((d) => d.dispose()));
      rmSync(home, { recursive: true, force: true });
    }
  });
}
