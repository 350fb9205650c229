import { test } from "node:test";
import assert from "node:assert/strict";
import { CarError } from "../../src/errors.ts";
import { globMatch } from "../../src/memgine/skills.ts";
import type { TraceEvent } from "../../src/memgine/skill-schemas.ts";
import { testMemgine } from "./helpers.ts";

const LOGIN = {
  name: "github_login",
  code: "await page.fill('#login', user); await page.click('[type=submit]')",
  platform: "playwright",
  persona: "browser",
  url_pattern: "https://github.com/*",
  task_keywords: ["login", "sign in", "github"],
  description: "Log in to GitHub with the stored credentials",
  domain: "web",
};

test("skills lifecycle: ingest, find with match_score, outcomes, degraded rule, list", async () => {
  const mem = testMemgine();
  const id = await mem.ingestSkill(LOGIN);
  await mem.ingestSkill({ name: "jira_ticket", code: "createTicket()", persona: "browser", url_pattern: "*.atlassian.net/*", task_keywords: ["ticket", "jira"], description: "File a Jira ticket", domain: "web" });
  assert.match(id, /^skill-/);

  const found = mem.findSkill({ persona: "browser", url: "https://github.com/login", task: "sign in to github" });
  assert.equal(found.length, 1, "max_results defaults to 1");
  assert.equal(found[0]!.name, "github_login");
  assert.ok(found[0]!.match_score > 0 && found[0]!.match_score <= 1);
  assert.deepEqual(Object.keys(found[0]!).sort(), ["code", "description", "match_score", "name", "platform", "stats"]);
  assert.deepEqual(mem.findSkill({ task: "bake bread" }), []);
  assert.deepEqual(mem.findSkill({}), [], "an empty query matches nothing");

  // The example client's sequence: success, success, fail, success.
  let stats = await mem.reportOutcome("github_login", "success");
  stats = await mem.reportOutcome("github_login", "success");
  stats = await mem.reportOutcome("github_login", "fail");
  stats = await mem.reportOutcome("github_login", "success");
  assert.deepEqual([stats.success_count, stats.fail_count, stats.degraded], [3, 1, false]);

  // Degraded exactly when fail_count > success_count + 2.
  for (let i = 0; i < 5; i++) stats = await mem.reportOutcome("github_login", "error: timeout");
  assert.deepEqual([stats.success_count, stats.fail_count, stats.degraded], [3, 6, true]);
  stats = await mem.reportOutcome("github_login", "success");
  assert.deepEqual([stats.success_count, stats.fail_count, stats.degraded], [4, 6, false], "6 > 4 + 2 is false");
  stats = await mem.reportOutcome("github_login", "fail");
  assert.equal(stats.degraded, true, "7 > 4 + 2");

  const degraded = mem.findSkill({ task: "github login", max_results: 5 });
  assert.equal(degraded[0]!.name, "github_login", "degraded skills are still returned");
  assert.equal(degraded[0]!.stats.degraded, true);
  assert.ok(degraded[0]!.match_score < found[0]!.match_score, "failures lower the score");

  const list = mem.listSkills();
  assert.deepEqual(list.map((s) => s.name), ["github_login", "jira_ticket"]);
  assert.deepEqual(mem.listSkills("other"), []);
  await assert.rejects(mem.reportOutcome("missing", "success"), (e: unknown) => e instanceof CarError && e.code === "not_found");
});

test("re-ingesting a skill makes a new version that supersedes the old one", async () => {
  const mem = testMemgine();
  const v1 = await mem.ingestSkill(LOGIN);
  for (let i = 0; i < 3; i++) await mem.reportOutcome("github_login", "fail");
  const v2 = await mem.ingestSkill({ ...LOGIN, code: "fixed()" });
  const [meta] = mem.listSkills();
  assert.equal(meta!.version, 2);
  assert.equal(meta!.id, v2);
  assert.equal(meta!.stats.fail_count, 0, "fresh stats for fresh code");
  assert.ok(mem.snapshot().edges.some((e) => e.from === v2 && e.to === v1 && e.kind === "supersedes"));
  await mem.ingestSkill({ name: "gh_login_v3", code: "x()", task_keywords: ["github", "login"], supersedes: "github_login" });
  assert.deepEqual(mem.listSkills().map((s) => s.name), ["gh_login_v3"]);
  await assert.rejects(mem.ingestSkill({ name: "a", code: "", supersedes: "ghost" }), (e: unknown) => e instanceof CarError && e.code === "not_found");
  await assert.rejects(mem.ingestSkill({ name: "", code: "" }), (e: unknown) => e instanceof CarError && e.code === "invalid_input");
});

test("domains_needing_evolution pools outcomes per domain (default threshold 0.6)", async () => {
  const mem = testMemgine();
  await mem.ingestSkill({ name: "scrape", code: "s()", domain: "research" });
  await mem.ingestSkill({ name: "summarize", code: "m()", domain: "writing" });
  await mem.ingestSkill({ name: "unused", code: "u()", domain: "idle" });
  for (const o of ["success", "success", "success", "success", "fail", "fail", "fail"]) await mem.reportOutcome("scrape", o);
  for (const o of ["success", "success"]) await mem.reportOutcome("summarize", o);
  assert.deepEqual(mem.domainsNeedingEvolution(), ["research"], "4/7 < 0.6; domains without outcomes are skipped");
  assert.deepEqual(mem.domainsNeedingEvolution(0.5), []);
  assert.deepEqual(mem.domainsNeedingEvolution(1), ["research"]);
  assert.throws(() => mem.domainsNeedingEvolution(1.5), (e: unknown) => e instanceof CarError && e.code === "invalid_input");
});

const EVENTS: TraceEvent[] = [
  { kind: "action_succeeded", action_id: "a1", tool: "browser.open", data: { url: "https://github.com" }, reward: 1 },
  { kind: "action_failed", action_id: "a2", tool: "browser.click", data: { error: "no such element" }, reward: 0 },
];

test("distill, evolve and repair fail with a clear CarError when no inference function is configured", async () => {
  const mem = testMemgine();
  await mem.ingestSkill(LOGIN);
  const noModel = (e: unknown) => e instanceof CarError && e.code === "unsupported" && /needs an inference function/.test(e.message);
  await assert.rejects(mem.distillSkills(EVENTS), noModel);
  await assert.rejects(mem.evolveSkills(EVENTS, "web"), noModel);
  await assert.rejects(mem.repairSkill("github_login"), noModel);
});

test("distill, evolve and repair go through the injected inference function", async () => {
  const prompts: string[] = [];
  let reply = "";
  const mem = testMemgine({ infer: async (p) => (prompts.push(p), reply) });
  await mem.ingestSkill(LOGIN);

  reply = 'Here you go:\n```json\n[{"name": "open_repo", "description": "Open a repository page", "trigger": {"task_keywords": ["repo"]}, "code": "open()", "domain": "web"}]\n```';
  const distilled = await mem.distillSkills(EVENTS);
  assert.equal(distilled[0]!.name, "open_repo");
  assert.match(prompts[0]!, /browser\.click/);
  assert.equal(mem.listSkills().length, 1, "distill does not ingest");
  assert.equal(await mem.ingestDistilled(distilled), 1);
  assert.equal(mem.findSkill({ task: "open the repo" })[0]?.name, "open_repo");

  reply = '[{"name": "github_login", "code": "better()", "description": "Log in, waiting for the form"}]';
  const variants = await mem.evolveSkills(EVENTS, "web");
  assert.equal(variants[0]!.domain, "web");
  assert.match(prompts[1]!, /github_login/);
  const evolved = mem.listSkills("web").find((s) => s.name === "github_login")!;
  assert.equal(evolved.version, 2);

  reply = "```js\nfixedCode()\n```";
  assert.equal(await mem.repairSkill("github_login"), "fixedCode()");
  reply = "null";
  assert.equal(await mem.repairSkill("github_login"), null);

  reply = "I cannot help with that.";
  await assert.rejects(mem.distillSkills(EVENTS), (e: unknown) => e instanceof CarError && /not a JSON array/.test(e.message));
  reply = '[{"description": "no name or code"}]';
  await assert.rejects(mem.distillSkills(EVENTS), (e: unknown) => e instanceof CarError && e.code === "invalid_input");
  await assert.rejects(mem.distillSkills([{ kind: "bogus" } as never]), (e: unknown) => e instanceof CarError && e.code === "invalid_input");
});

test("URL patterns: wildcards match the whole URL, plain patterns match inside it", () => {
  assert.ok(globMatch("https://github.com/*", "https://GitHub.com/login"));
  assert.ok(!globMatch("https://github.com/*", "https://gitlab.com/login"));
  assert.ok(globMatch("*.atlassian.net/*", "https://acme.atlassian.net/browse/X-1"));
  assert.ok(globMatch("github.com", "https://github.com/x"));
  assert.ok(!globMatch("a*a*a*a*a*a*b", "a".repeat(5000)), "no exponential backtracking");
});
