import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parseDaemonArgs, UsageError } from "../../runtimes/cli-args.ts";
import { wsUrl } from "../../runtimes/daemon.ts";
import { SeededRandom } from "../../src/engine/random.ts";
import { SERVER_VERSION } from "../../src/protocol/version.ts";
import { bearerToken, mintToken, tokensEqual } from "../../src/server/auth.ts";
import { proposalDeadlineMs } from "../../src/server/methods/proposal.ts";
import { originAllowed } from "../../src/server/origin.ts";
import { isLoopback, resolveSettings } from "../../src/server/settings.ts";

test("tokens: 43 base64url chars from 32 random bytes; compare checks length and content", () => {
  const t = mintToken(new SeededRandom(1));
  assert.match(t, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(mintToken(), mintToken());
  assert.equal(tokensEqual(t, t), true);
  assert.equal(tokensEqual(t.slice(0, 42), t), false);
  assert.equal(tokensEqual(t + "x", t), false);
  assert.equal(tokensEqual("", t), false);
  assert.equal(tokensEqual(t.slice(0, 42) + (t[42] === "A" ? "B" : "A"), t), false);
  assert.equal(bearerToken("Bearer abc"), "abc");
  assert.equal(bearerToken("bearer  abc "), "abc");
  assert.equal(bearerToken("Basic abc"), undefined);
  assert.equal(bearerToken(undefined), undefined);
});

test("loopback and origin checks", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) assert.equal(isLoopback(h), true, h);
  for (const h of ["0.0.0.0", "::", "192.168.1.2", "example.com", "128.0.0.1"]) assert.equal(isLoopback(h), false, h);
  assert.equal(originAllowed(undefined, []), true);
  assert.equal(originAllowed("https://evil.example", []), false);
  assert.equal(originAllowed("null", []), false);
  assert.equal(originAllowed("http://LOCALHOST:5173/", ["http://localhost:5173"]), true);
  assert.equal(originAllowed("http://localhost:5174", ["http://localhost:5173"]), false);
  assert.equal(originAllowed("https://any.example", ["*"]), true);
});

test("proposal.submit deadline: Σ timeout × attempts + grace, never below the handler deadline", () => {
  const d = { handlerTimeoutMs: 1_800_000, toolTimeoutMs: 300_000, deadlineGraceMs: 15_000 };
  assert.equal(proposalDeadlineMs([], d), 1_800_000);
  // 7 actions without timeout: 7 × 300 s + 15 s = 2115 s.
  assert.equal(proposalDeadlineMs(Array.from({ length: 7 }, () => ({})), d), 2_115_000);
  // retry: max_retries + 1 attempts (default 3 → 4); other behaviours: 1 attempt.
  assert.equal(proposalDeadlineMs([{ timeout_ms: 1_000_000, failure_behavior: "retry" }], d), 4_015_000);
  assert.equal(proposalDeadlineMs([{ timeout_ms: 1_000_000, failure_behavior: "retry", max_retries: 1 }, { timeout_ms: 10, failure_behavior: "skip" }], d), 2_015_010);
});

test("settings: defaults and named errors", () => {
  const s = resolveSettings();
  assert.deepEqual([s.host, s.port, s.auth, s.maxFrameBytes, s.toolTimeoutMs, s.handlerTimeoutMs], ["127.0.0.1", 9100, true, 16 * 1024 * 1024, 300_000, 1_800_000]);
  assert.throws(() => resolveSettings({ port: 70000 }), /port/);
});

test("CLI: flags win over CAR_* variables; bad input is a UsageError", () => {
  const env = { CAR_PORT: "9200", CAR_NO_AUTH: "1", CAR_TOOL_TIMEOUT: "2.5", CAR_HANDLER_TIMEOUT: "60", CAR_ALLOWED_ORIGINS: "http://a, http://b", CAR_HOME: "/srv/car" };
  const c = parseDaemonArgs([], env, "/home/u");
  assert.deepEqual([c.settings.port, c.settings.auth, c.settings.toolTimeoutMs, c.settings.handlerTimeoutMs, c.settings.allowedOrigins, c.carHome], [9200, false, 2500, 60_000, ["http://a", "http://b"], "/srv/car"]);
  const f = parseDaemonArgs(["--port", "0", "--tool-timeout", "1", "--allow-origin", "http://c", "--car-home", "/x", "--require-handshake"], env, "/home/u");
  assert.deepEqual([f.settings.port, f.settings.toolTimeoutMs, f.settings.allowedOrigins, f.carHome, f.settings.requireHandshake], [0, 1000, ["http://c"], "/x", true]);
  assert.equal(parseDaemonArgs([], {}, "/home/u").carHome, "/home/u/.car");
  assert.equal(parseDaemonArgs([], {}, "/home/u").settings.auth, true);
  assert.deepEqual(parseDaemonArgs(["--policy", "/p/a.toml", "--policy", "/p/dir"], {}, "/h").policyPaths, ["/p/a.toml", "/p/dir"]);
  assert.deepEqual(parseDaemonArgs([], {}, "/h").policyPaths, []);
  assert.deepEqual([parseDaemonArgs([], {}, "/h").journal, parseDaemonArgs([], { CAR_JOURNAL: "off" }, "/h").journal, parseDaemonArgs(["--journal", "buffered"], { CAR_JOURNAL: "off" }, "/h").journal], ["buffered", "off", "buffered"]);
  for (const [argv, e] of [[["--port", "x"], {}], [["--nope"], {}], [[], { CAR_HOME: "relative/dir" }], [["--tool-timeout", "0"], {}], [["extra"], {}], [["--journal", "sometimes"], {}], [[], { CAR_JOURNAL: "always" }]] as const) {
    assert.throws(() => parseDaemonArgs([...argv], e, "/h"), UsageError, JSON.stringify(argv));
  }
  assert.equal(wsUrl("127.0.0.1", 9100), "ws://127.0.0.1:9100/");
  assert.equal(wsUrl("::1", 1), "ws://[::1]:1/");
});

test("SERVER_VERSION matches package.json", () => {
  assert.equal(SERVER_VERSION, JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version);
});
