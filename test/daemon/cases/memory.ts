// Memory and skills over the wire: reference §6 methods, session.auth scopes, the persist/load sandbox, restarts, §10.2 flows.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CarClient } from "../../../adapters/client/node.ts";
import { RpcError } from "../../../src/protocol/errors.ts";
import { startDaemon, type Daemon, type RuntimeName } from "../harness.ts";
import { expectError, expectResult, tokenOf, type Daemons } from "../helpers.ts";
import { RawSocket } from "../raw-socket.ts";

/** A CarClient on `d` bound to a memory scope (token from the daemon's token file when auth is on). */
function client(d: Daemon, scope: { memoryNamespace?: string; agentId?: string } = {}): CarClient {
  return new CarClient({ url: d.url, env: { CAR_HOME: d.carHome }, reconnect: false, ...scope });
}

/** A raw socket authenticated on `d` with a memory scope. */
async function scopedSocket(d: Daemon, scope: { memory_namespace?: string; agent_id?: string }): Promise<RawSocket> {
  const s = await RawSocket.open(d.url);
  expectResult(await s.call("auth", "session.auth", { token: tokenOf(d), ...scope }), "auth");
  return s;
}

/** Rejects with an RpcError of `code` whose data carries `car_code` (and `reason` when given). */
async function rejectsWith(p: Promise<unknown>, code: number, carCode: string, reason?: string): Promise<RpcError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => ((caught = e), true));
  assert.ok(caught instanceof RpcError, `expected an RpcError, got ${String(caught)}`);
  assert.equal(caught.rpcCode, code, caught.message);
  const data = caught.data as { car_code?: string; reason?: string };
  assert.equal(data.car_code, carCode, caught.message);
  if (reason !== undefined) assert.equal(data.reason, reason, caught.message);
  return caught;
}

const ROW_KEYS = ["body", "confidence", "fact_id", "kind", "source", "subject", "tags"];

export function memoryCases(d: Daemons, rt: RuntimeName): void {
  test("reference §10.2 minimal client, memory steps: add_fact answers the fact count; build_context holds the fact", async () => {
    const s = await RawSocket.open(d.open.url);
    s.text(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "memory.add_fact", params: { subject: "lang", body: "Python", kind: "pattern" } }));
    const count = expectResult((await s.next()).msg, 2);
    assert.ok(Number.isInteger(count) && (count as number) >= 1, `fact count ${String(count)}`);
    s.text(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "memory.build_context", params: { query: "what language is this?" } }));
    const ctx = expectResult((await s.next()).msg, 3);
    assert.equal(typeof ctx, "string");
    assert.match(ctx as string, /^## Facts$/m);
    assert.match(ctx as string, /^- lang: Python$/m);
    assert.equal(expectResult(await s.call(4, "memory.fact_count", {}), 4), count);
    // The same fact again is not a new one.
    assert.equal(expectResult(await s.call(5, "memory.add_fact", { subject: "lang", body: "Python" }), 5), count);
    s.close();
  });

  test("memory.query rows: {subject, body, kind, confidence, fact_id, tags, source}, best first, k respected, ws- provenance", async () => {
    const c = client(d.auth, { memoryNamespace: "rows" });
    try {
      assert.equal(await c.memoryAddFact({ subject: "database", body: "PostgreSQL 16 with pgvector", tags: ["infra"], source: "readme" }), 1);
      assert.equal(await c.memoryAddFact({ subject: "deploy", body: "never deploy on Fridays", kind: "constraint", confidence: 0.9 }), 2);
      assert.equal(await c.memoryAddFact({ subject: "editor", body: "the team uses Helix" }), 3);
      const rows = await c.memoryQuery({ query: "which database do we use?", k: 2 });
      assert.ok(rows.length >= 1 && rows.length <= 2);
      const top = rows[0]!;
      assert.deepEqual(Object.keys(top).sort(), ROW_KEYS);
      assert.deepEqual({ subject: top.subject, body: top.body, kind: top.kind, tags: top.tags, source: top.source }, { subject: "database", body: "PostgreSQL 16 with pgvector", kind: "pattern", tags: ["infra"], source: "ws-readme" });
      assert.match(top.fact_id, /^fact-/);
      assert.ok(top.confidence > 0 && top.confidence <= 1);
      const constraint = (await c.memoryQuery({ query: "deploy Fridays" }))[0]!;
      assert.deepEqual([constraint.kind, constraint.source], ["constraint", "ws-client"]);
      assert.deepEqual(await c.memoryQuery({ query: "database", k: 0 }), []);
      // Bad params are -32602 with the zod issues.
      const raw = await scopedSocket(d.auth, { memory_namespace: "rows" });
      const e1 = expectError(await raw.call(1, "memory.add_fact", { subject: "x" }), -32602, 1);
      assert.deepEqual((e1.data as { issues: Array<{ path: unknown[] }> }).issues.map((i) => i.path), [["body"]]);
      expectError(await raw.call(2, "memory.query", { query: "x", k: -1 }), -32602, 2);
      expectError(await raw.call(3, "memory.add_fact", { subject: "x", body: "y", kind: "rumour" }), -32602, 3);
      const del = expectResult(await raw.call(4, "memory.delete", { id: top.fact_id }), 4);
      assert.deepEqual(del, { deleted: true, fact_count: 2 });
      raw.close();
    } finally {
      c.close();
    }
  });

  test("namespace isolation: a fact of one memory_namespace never appears in another, nor in agent or shared graphs", async () => {
    const a = client(d.auth, { memoryNamespace: "iso-a" });
    const b = client(d.auth, { memoryNamespace: "iso-b" });
    const agent = client(d.auth, { agentId: "iso-agent" });
    const shared = client(d.auth);
    try {
      await a.memoryAddFact({ subject: "launch code", body: "zebra-7-secret" });
      await a.memoryAddFact({ subject: "constraint", body: "zebra rule", kind: "constraint" });
      // The same reads find both facts in their own namespace.
      assert.equal((await a.memoryQuery({ query: "launch code zebra secret", k: 50 }))[0]!.body, "zebra-7-secret");
      assert.match(await a.memoryBuildContext({ query: "launch code constraint rule" }), /zebra-7-secret[\s\S]*zebra rule|zebra rule[\s\S]*zebra-7-secret/);
      assert.match(await a.memoryBuildContextFast({}), /zebra-7-secret/);
      for (const other of [b, agent, shared]) {
        const rows = await other.memoryQuery({ query: "launch code zebra secret", k: 50 });
        assert.ok(!rows.some((r) => /zebra/.test(r.body)), JSON.stringify(rows));
        // (Known Unknowns repeats unmatched query words, so the query names no secret word.)
        assert.doesNotMatch(await other.memoryBuildContext({ query: "launch code constraint rule" }), /zebra/);
        assert.doesNotMatch(await other.memoryBuildContextFast({}), /zebra/);
      }
      assert.equal(await b.memoryFactCount(), 0);
      assert.equal(await agent.memoryFactCount(), 0);
      // A fact of b stays out of a too, even under the same subject.
      await b.memoryAddFact({ subject: "launch code", body: "other-b" });
      assert.deepEqual((await a.memoryQuery({ query: "launch code" })).map((r) => r.body), ["zebra-7-secret"]);
      // The namespace wins over the agent id; the agent id alone has its own graph.
      const both = client(d.auth, { memoryNamespace: "iso-a", agentId: "iso-agent" });
      try {
        assert.equal(await both.memoryFactCount(), 2);
      } finally {
        both.close();
      }
      await agent.memoryAddFact({ subject: "agent note", body: "only the agent" });
      assert.equal(await agent.memoryFactCount(), 1);
      assert.ok(!(await a.memoryQuery({ query: "agent note only", k: 50 })).some((r) => r.body === "only the agent"));
      // Names differing only in case are different namespaces.
      const upper = client(d.auth, { memoryNamespace: "ISO-A" });
      try {
        assert.equal(await upper.memoryFactCount(), 0);
      } finally {
        upper.close();
      }
    } finally {
      for (const c of [a, b, agent, shared]) c.close();
    }
  });

  test("the same memory_namespace is one graph across connections (concurrent writers, raw frames and CarClient)", async () => {
    const one = await scopedSocket(d.auth, { memory_namespace: "team" });
    const two = client(d.auth, { memoryNamespace: "team" });
    try {
      await Promise.all([one.call(1, "memory.add_fact", { subject: "standup", body: "daily at 9:30" }), two.memoryAddFact({ subject: "retro", body: "every second Friday" })]);
      assert.equal(await two.memoryFactCount(), 2);
      assert.equal(expectResult(await one.call(2, "memory.fact_count", {}), 2), 2);
      assert.equal((await two.memoryQuery({ query: "when is standup?" }))[0]!.body, "daily at 9:30");
      const rows = expectResult(await one.call(3, "memory.query", { query: "retro Friday" }), 3) as Array<{ body: string }>;
      assert.equal(rows[0]!.body, "every second Friday");
      // Supersession is visible to every connection of the namespace.
      await two.memoryAddFact({ subject: "standup", body: "daily at 10:00" });
      const after = expectResult(await one.call(4, "memory.query", { query: "standup", k: 10 }), 4) as Array<{ body: string }>;
      assert.deepEqual(after.map((r) => r.body).filter((b) => b.startsWith("daily")), ["daily at 10:00"]);
    } finally {
      one.close();
      two.close();
    }
  });

  test("skills over the wire: ingest, find with match_score, report with the degraded rule, list, domains; inference methods refuse clearly", async () => {
    const c = client(d.auth, { memoryNamespace: "skills" });
    try {
      const id = await c.skillIngest({ name: "login", code: "fill('#user'); click('#go')", persona: "tester", url_pattern: "https://app.example/*", task_keywords: ["login", "sign in"], description: "log into the app", domain: "web" });
      assert.match(id, /^skill-/);
      const found = await c.skillFind({ task: "login to the app", url: "https://app.example/start" });
      assert.ok(found && found.length === 1);
      assert.deepEqual(Object.keys(found[0]!).sort(), ["code", "description", "match_score", "name", "platform", "stats"]);
      assert.equal(found[0]!.name, "login");
      assert.ok(found[0]!.match_score > 0 && found[0]!.match_score <= 1);
      assert.equal(await c.skillFind({ task: "bake sourdough bread" }), null);
      let stats;
      for (const outcome of ["success", "fail", "fail", "fail"]) stats = await c.skillReport({ name: "login", outcome });
      assert.deepEqual([stats!.success_count, stats!.fail_count, stats!.degraded], [1, 3, false]);
      stats = await c.skillReport({ name: "login", outcome: "timeout" });
      assert.deepEqual([stats.success_count, stats.fail_count, stats.degraded], [1, 4, true]);
      const again = await c.skillFind({ task: "login" });
      assert.equal(again![0]!.stats.degraded, true);
      const list = await c.skillsList({ domain: "web" });
      assert.deepEqual(list.map((s) => [s.name, s.version, s.status, s.stats.fail_count]), [["login", 1, "active", 4]]);
      assert.deepEqual(await c.skillsList({ domain: "nothing" }), []);
      assert.deepEqual(await c.skillsDomainsNeedingEvolution(), ["web"]);
      await rejectsWith(c.skillReport({ name: "no-such-skill", outcome: "success" }), -32603, "not_found");
      // These go to the daemon's inference engine, which serves no model here: a clear CarError
      // over the wire, not a crash or a hang.
      for (const call of [c.skillRepair({ name: "login" }), c.skillsDistill({ events: [{ kind: "action_failed", action_id: "a1", tool: "click" }] }), c.skillsEvolve({ events: [], domain: "web" })]) {
        const e = await rejectsWith(call, -32603, "not_found");
        assert.match(e.message, /no available model offers generate/);
      }
      // The skills live in this namespace only.
      const other = client(d.auth, { memoryNamespace: "skills-other" });
      try {
        assert.equal(await other.skillFind({ task: "login" }), null);
        assert.deepEqual(await other.skillsList({}), []);
      } finally {
        other.close();
      }
    } finally {
      c.close();
    }
  });

  test("reference §10.2 memory_and_skills flow: skill find/report, persist and reload (loaded == fact_count); distilled skills and domains", async () => {
    const c = client(d.open, { memoryNamespace: "example-memory-and-skills" });
    try {
      await c.memoryAddFact({ subject: "user", body: "prefers concise answers", kind: "pattern" });
      await c.memoryAddFact({ subject: "style", body: "no emojis in commit messages", kind: "constraint" });
      await c.skillIngest({ name: "search_docs", code: "return search(query)", platform: "web", persona: "researcher", url_pattern: "docs.example.com", task_keywords: ["search", "docs"], description: "search the documentation" });
      const found = await c.skillFind({ persona: "researcher", url: "https://docs.example.com/api", task: "search docs for auth" });
      assert.equal(found![0]!.name, "search_docs");
      assert.equal(typeof found![0]!.match_score, "number");
      let stats;
      for (const outcome of ["success", "success", "fail", "success"]) stats = await c.skillReport({ name: "search_docs", outcome });
      assert.deepEqual({ s: stats!.success_count, f: stats!.fail_count, degraded: stats!.degraded }, { s: 3, f: 1, degraded: false });
      const factCount = await c.memoryFactCount();
      assert.equal(await c.memoryPersist({ path: "examples/memory_and_skills.json" }), factCount);
      const loaded = await c.memoryLoad({ path: "examples/memory_and_skills.json" });
      assert.equal(loaded, factCount);
      assert.equal((await c.skillsList({}))[0]!.stats.success_count, 3);
      // The multi-agent example's skill part: two distilled skills, outcomes, domains below 0.6.
      const ingested = await c.skillsIngestDistilled({
        skills: [
          { name: "fetch_page", code: "return fetch(url)", description: "fetch a page", scope: { domain: "scraping" } },
          { name: "summarise", code: "return summary(text)", description: "summarise text", domain: "writing", trigger: { task_keywords: ["summarise"] } },
        ],
      });
      assert.deepEqual(ingested, { ingested: 2 });
      for (const outcome of ["success", "success", "success", "success", "fail", "fail", "fail"]) await c.skillReport({ name: "fetch_page", outcome });
      for (const outcome of ["success", "success"]) await c.skillReport({ name: "summarise", outcome });
      assert.deepEqual(await c.skillsDomainsNeedingEvolution({ threshold: 0.6 }), ["scraping"]);
      assert.deepEqual(await c.skillsDomainsNeedingEvolution({ threshold: 0.5 }), []);
      const report = await c.memoryConsolidate();
      assert.equal(report.fact_count, factCount);
    } finally {
      c.close();
    }
  });

  test("persist/load: files under CAR_HOME/memory, round trip, full replace, path sandbox (-32602); restart keeps the graphs; --ephemeral keeps files in memory", async () => {
    const home = mkdtempSync(join(tmpdir(), `car-mem-${rt}-`));
    const outside = mkdtempSync(join(tmpdir(), `car-mem-out-${rt}-`));
    const started: Daemon[] = [];
    try {
      const [first, eph] = await Promise.all([startDaemon(rt, ["--no-auth", "--car-home", home]), startDaemon(rt, ["--no-auth", "--ephemeral"])]);
      started.push(first, eph);
      const c = client(first, { memoryNamespace: "proj" });
      await c.memoryAddFact({ subject: "lang", body: "TypeScript", tags: ["repo"] });
      await c.memoryAddFact({ subject: "runtime", body: "Node, Bun and Deno" });
      await c.skillIngest({ name: "build", code: "npm run build", task_keywords: ["build"] });
      await c.skillReport({ name: "build", outcome: "success" });
      const before = await c.memoryQuery({ query: "lang runtime", k: 10 });

      // Relative paths land under CAR_HOME/memory; the file is private to the daemon's user.
      assert.equal(await c.memoryPersist({ path: "backups/proj.json" }), 2);
      const file = join(home, "memory", "backups", "proj.json");
      assert.ok(existsSync(file));
      if (process.platform !== "win32") assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal((JSON.parse(readFileSync(file, "utf8")) as { facts: unknown[] }).facts.length, 2);
      // An absolute path inside the memory directory is accepted.
      assert.equal(await c.memoryPersist({ path: join(home, "memory", "abs.json") }), 2);

      // load replaces the whole graph: a fact added after persist is gone, the rest is equal.
      await c.memoryAddFact({ subject: "extra", body: "added after persist" });
      assert.equal(await c.memoryFactCount(), 3);
      assert.equal(await c.memoryLoad({ path: "backups/proj.json" }), 2);
      assert.deepEqual(await c.memoryQuery({ query: "lang runtime", k: 10 }), before);
      assert.deepEqual(await c.memoryQuery({ query: "added after persist" }), []);
      assert.equal((await c.skillsList({}))[0]!.stats.success_count, 1);

      // The sandbox, over the wire.
      mkdirSync(join(home, "memory"), { recursive: true });
      symlinkSync(outside, join(home, "memory", "out"));
      await rejectsWith(c.memoryPersist({ path: "../escape.json" }), -32602, "invalid_input", "dot_dot");
      await rejectsWith(c.memoryPersist({ path: "backups/../../escape.json" }), -32602, "invalid_input", "dot_dot");
      await rejectsWith(c.memoryLoad({ path: "..\\state\\x" }), -32602, "invalid_input", "dot_dot");
      await rejectsWith(c.memoryPersist({ path: join(outside, "abs.json") }), -32602, "invalid_input", "absolute_outside");
      await rejectsWith(c.memoryLoad({ path: "/etc/passwd" }), -32602, "invalid_input", "absolute_outside");
      await rejectsWith(c.memoryPersist({ path: "out/leak.json" }), -32602, "invalid_input", "symlink_escape");
      await rejectsWith(c.memoryLoad({ path: "bad\u0000name" }), -32602, "invalid_input", "nul");
      await assert.rejects(c.memoryPersist({ path: "" }), (err: unknown) => err instanceof RpcError && err.rpcCode === -32602);
      assert.equal(existsSync(join(home, "escape.json")) || existsSync(join(outside, "abs.json")) || existsSync(join(outside, "leak.json")), false);
      // A missing file and a corrupt file are errors that leave the graph as it was.
      await rejectsWith(c.memoryLoad({ path: "nothing-here.json" }), -32603, "not_found");
      writeFileSync(join(home, "memory", "corrupt.json"), "{ not json");
      await rejectsWith(c.memoryLoad({ path: "corrupt.json" }), -32603, "corrupted");
      assert.equal(await c.memoryFactCount(), 2);
      c.close();

      // --ephemeral: persist/load still work under the same rules, but nothing reaches the disk.
      const e = client(eph, { memoryNamespace: "proj" });
      try {
        assert.equal(await e.memoryFactCount(), 0);
        await e.memoryAddFact({ subject: "temp", body: "ephemeral fact" });
        assert.equal(await e.memoryPersist({ path: "snap.json" }), 1);
        await e.memoryAddFact({ subject: "temp2", body: "second" });
        assert.equal(await e.memoryLoad({ path: "snap.json" }), 1);
        await rejectsWith(e.memoryPersist({ path: "../x.json" }), -32602, "invalid_input", "dot_dot");
        assert.equal(existsSync(join(eph.carHome, "memory")), false);
      } finally {
        e.close();
      }

      // Restart on the same CAR_HOME: the graphs come back from CAR_HOME/state.
      assert.equal(await first.stop("SIGTERM"), 0);
      const second = await startDaemon(rt, ["--no-auth", "--car-home", home]);
      started.push(second);
      const r = client(second, { memoryNamespace: "proj" });
      try {
        assert.equal(await r.memoryFactCount(), 2);
        assert.deepEqual(await r.memoryQuery({ query: "lang runtime", k: 10 }), before);
        assert.deepEqual((await r.skillsList({})).map((s) => [s.name, s.stats.success_count]), [["build", 1]]);
        assert.equal(await r.memoryLoad({ path: join(home, "memory", "abs.json") }), 2);
        const other = client(second, { memoryNamespace: "other" });
        try {
          assert.equal(await other.memoryFactCount(), 0);
        } finally {
          other.close();
        }
      } finally {
        r.close();
      }
      assert.doesNotMatch(first.stderr() + second.stderr() + eph.stderr(), /unhandled|TypeError|internal error/i);
    } finally {
      await Promise.all(started.map((x) => x.dispose()));
      rmSync(home, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  });
}
