import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CanceledError, ManualClock, Runtime, SeededRandom, ValidationError, expandArgv, subprocessTool } from "../../src/index.ts";
import { createNodeSubprocessRunner } from "../../adapters/subprocess/node.ts";

const node = process.execPath;
const runner = createNodeSubprocessRunner({ hostEnv: { KEEP: "kept", SECRET: "hidden" } });
const base = { timeoutMs: 10_000, maxStdoutBytes: 1 << 20, maxStderrBytes: 1 << 16 };

/** Alive = exists and not a zombie (a killed child reparented to a non-reaping init lingers as Z). */
function alive(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (existsSync("/proc/self/stat")) {
    if (!existsSync(stat)) return false;
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(stat, "utf8"));
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitDead(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

const SPAWN_GRANDCHILD = `const c = require("child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" }); console.log(c.pid); setTimeout(() => {}, 60000);`;

test("argv is passed verbatim (no shell); cwd and the environment allow-list apply", async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "car-sub-")));
  const res = await runner.run({
    ...base,
    argv: [node, "-e", "console.log(JSON.stringify({ argv: process.argv.slice(1), cwd: process.cwd(), env: Object.keys(process.env).sort(), keep: process.env.KEEP, x: process.env.X }))", "a b", "; rm -rf / #", "$(whoami)"],
    cwd: dir,
    envAllow: ["KEEP", "ABSENT"],
    env: { X: "1" },
  });
  assert.equal(res.exit_code, 0);
  const out = JSON.parse(res.stdout);
  assert.deepEqual(out.argv, ["a b", "; rm -rf / #", "$(whoami)"]);
  assert.equal(out.cwd, dir);
  assert.equal(out.keep, "kept");
  assert.equal(out.x, "1");
  assert.ok(!out.env.includes("SECRET"), `env leaked: ${out.env}`);
});

test("stdout and stderr are capped and flagged truncated; stdin is delivered", async () => {
  const res = await runner.run({ ...base, maxStdoutBytes: 1000, maxStderrBytes: 10, argv: [node, "-e", "process.stdin.pipe(process.stdout); process.stdin.on('end', () => { process.stdout.write('x'.repeat(100000)); process.stderr.write('e'.repeat(50)); })"], stdin: "hello " });
  assert.equal(res.stdout.length, 1000);
  assert.ok(res.stdout.startsWith("hello xxx"));
  assert.equal(res.stdout_truncated, true);
  assert.equal(res.stderr, "e".repeat(10));
  assert.equal(res.stderr_truncated, true);
});

test("a timeout kills the child and its children", async () => {
  const res = await runner.run({ ...base, timeoutMs: 300, argv: [node, "-e", SPAWN_GRANDCHILD] });
  assert.equal(res.timed_out, true);
  assert.equal(res.signal, "SIGKILL");
  const grandchild = Number(res.stdout.trim());
  assert.ok(grandchild > 0, `grandchild pid printed: ${res.stdout}`);
  assert.ok(await waitDead(grandchild), "grandchild killed with the group");
});

test("cancellation kills the child and rejects with CanceledError", async () => {
  const ctl = new AbortController();
  const pending = runner.run({ ...base, argv: [node, "-e", SPAWN_GRANDCHILD], signal: ctl.signal });
  setTimeout(() => ctl.abort(new Error("stop now")), 200);
  await assert.rejects(pending, (e: unknown) => e instanceof CanceledError && /stop now/.test(e.message));
});

test("a missing program is a clear tool error, not a crash", async () => {
  await assert.rejects(runner.run({ ...base, argv: ["/no/such/program"] }), /cannot run \/no\/such\/program/);
});

test("subprocess tool through the runtime: placeholders fill single argv elements, non-zero exit fails, timeout fails the action", async () => {
  const rt = new Runtime({ clock: new ManualClock(), random: new SeededRandom(1) });
  const echo = subprocessTool({ name: "echo_args", argv: [node, "-e", "console.log(JSON.stringify(process.argv.slice(1)))", "name={who}", "{n}", "{{literal}}"] }, runner);
  rt.registerTool(echo.schema, echo.handler);
  const fail = subprocessTool({ name: "fail", argv: [node, "-e", "console.error('bad thing'); process.exit(3)"] }, runner);
  rt.registerTool(fail.schema, fail.handler);
  const hang = subprocessTool({ name: "hang", argv: [node, "-e", SPAWN_GRANDCHILD], timeout_ms: 300 }, runner);
  rt.registerTool(hang.schema, hang.handler);
  const res = await rt.executeProposal({
    actions: [
      { id: "a", type: "tool_call", tool: "echo_args", parameters: { who: "x y; ls", n: 42 }, failure_behavior: "skip" },
      { id: "b", type: "tool_call", tool: "fail", failure_behavior: "skip" },
      { id: "c", type: "tool_call", tool: "hang", failure_behavior: "skip" },
      { id: "d", type: "tool_call", tool: "echo_args", parameters: { n: 1 }, failure_behavior: "skip" },
    ],
  });
  assert.equal(res.results[0]!.status, "succeeded", res.results[0]!.error ?? "");
  const out = res.results[0]!.output as { stdout: string; exit_code: number };
  assert.deepEqual(JSON.parse(out.stdout), ["name=x y; ls", "42", "{literal}"]);
  assert.equal(res.results[1]!.status, "failed");
  assert.match(res.results[1]!.error!, /fail exited with code 3: bad thing/);
  assert.equal(res.results[2]!.status, "failed");
  assert.match(res.results[2]!.error!, /^timeout: hang/);
  assert.match(res.results[3]!.error!, /parameters\.who: required by argv\[3\]/);
  assert.equal(rt.tools.schema("hang")!.source, "subprocess");
});

test("expandArgv and definitions validate their input", () => {
  assert.deepEqual(expandArgv(["{a}{b}", "{{a}}"], { a: "1", b: [2] }), ["1[2]", "{a}"]);
  assert.throws(() => subprocessTool({ name: "x", argv: [] }, runner), ValidationError);
});
