import { test } from "node:test";
import assert from "node:assert/strict";
import { SECTION_ORDER, estimateTokens, contextBudget, DEFAULT_CONTEXT } from "../../src/memgine/context.ts";
import { sectionTitles, testMemgine } from "./helpers.ts";

async function populated() {
  const mem = testMemgine();
  await mem.setIdentity("name", "release-bot, an agent that ships car-server");
  await mem.addFact("no friday deploys", "never deploy to production on a Friday", "constraint");
  await mem.addFact("approval", "production deploys need one human approval", "constraint");
  await mem.addFact("deploy tool", "deploys run through Argo CD from the main branch");
  await mem.addFact("deploy region", "production runs in eu-central-1");
  await mem.addFact("deploy rollback", "roll back a bad deploy with argo rollback");
  await mem.addFact("lunch", "the team lunch is at noon");
  await mem.addTurn("user", "can you deploy the fix?");
  await mem.addTurn("assistant", "checking the deploy rules");
  await mem.setEnvironment("today", "Thursday");
  return mem;
}

test("buildContext prints Identity → Constraints → Facts → Conversation → Environment → Known Unknowns", async () => {
  const mem = await populated();
  const ctx = await mem.buildContext("how do I deploy to production zorblax?");
  assert.deepEqual(sectionTitles(ctx), [...SECTION_ORDER]);
  assert.match(ctx, /## Known Unknowns\n- No memory matches: zorblax/);
  // Facts: most relevant last, irrelevant lunch not included.
  const facts = ctx.split("## Facts\n")[1]!.split("\n\n")[0]!.split("\n");
  assert.ok(!facts.some((l) => l.includes("lunch")));
  const last = facts[facts.length - 1]!;
  assert.match(last, /deploy/);
  // Conversation: oldest first, newest last.
  const conv = ctx.split("## Conversation\n")[1]!.split("\n\n")[0]!;
  assert.equal(conv, "user: can you deploy the fix?\nassistant: checking the deploy rules");
  assert.ok(estimateTokens(ctx) <= DEFAULT_CONTEXT.defaultBudgetTokens);
});

test("the most relevant fact comes last in the Facts section", async () => {
  const mem = testMemgine();
  await mem.addFact("alpha", "kubernetes cluster notes");
  await mem.addFact("beta", "kubernetes kubernetes kubernetes cluster upgrade procedure for kubernetes");
  const hits = await mem.query("kubernetes upgrade", 2);
  const ctx = await mem.buildContext("kubernetes upgrade");
  const facts = ctx.split("## Facts\n")[1]!.split("\n");
  assert.equal(facts.length, 2);
  assert.ok(facts[1]!.startsWith(`- ${hits[0]!.node.subject}:`));
  assert.ok(facts[0]!.startsWith(`- ${hits[1]!.node.subject}:`));
});

test("the token budget is respected, scaled from the model window, and constraints keep their place", async () => {
  const mem = testMemgine();
  await mem.setIdentity("name", "budget-bot");
  await mem.addFact("rule", "always answer in English", "constraint");
  for (let i = 0; i < 400; i++) await mem.addFact(`server ${i}`, `server ${i} runs service number ${i} with a rather long description of its duties`);
  for (const window of [1000, 4000, 32_000, 200_000]) {
    const budget = contextBudget(DEFAULT_CONTEXT, window);
    const ctx = await mem.buildContext("which server runs the service", { model_context_window: window });
    assert.ok(estimateTokens(ctx) <= budget, `window ${window}: ${estimateTokens(ctx)} > ${budget}`);
    assert.deepEqual(sectionTitles(ctx).slice(0, 3), ["Identity", "Constraints", "Facts"]);
    assert.match(ctx, /always answer in English/);
    const fast = mem.buildContextFast({ model_context_window: window });
    assert.ok(estimateTokens(fast) <= budget);
  }
  assert.equal(contextBudget(DEFAULT_CONTEXT), 8000);
  assert.equal(contextBudget(DEFAULT_CONTEXT, 32_000), 8000);
  assert.equal(contextBudget(DEFAULT_CONTEXT, 128_000), 32_000);
  const big = await mem.buildContext("which server runs the service");
  assert.ok(estimateTokens(big) <= 8000);
  // The default 8k budget holds far fewer than 400 facts' worth of text, so it was cut.
  assert.ok(big.split("\n").length < 400 && big.split("\n").length > 20);
});

test("a tiny budget still yields well-formed output within it", async () => {
  const mem = await populated();
  const ctx = await mem.buildContext("deploy", { model_context_window: 40 });
  assert.ok(estimateTokens(ctx) <= 40, ctx);
  const order = sectionTitles(ctx).map((t) => SECTION_ORDER.indexOf(t as never));
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
});

test("very long entries are clipped, not allowed to blow the budget", async () => {
  const mem = testMemgine();
  await mem.addFact("essay", "word ".repeat(10_000));
  const ctx = await mem.buildContext("word essay");
  assert.ok(ctx.includes("…"));
  assert.ok(estimateTokens(ctx) <= DEFAULT_CONTEXT.maxItemTokens + 20);
});

test("buildContextFast uses creation order, no scoring and no known unknowns", async () => {
  const mem = await populated();
  const fast = mem.buildContextFast();
  assert.ok(!fast.includes("Known Unknowns"));
  const facts = fast.split("## Facts\n")[1]!.split("\n\n")[0]!.split("\n");
  assert.deepEqual(facts.map((l) => l.split(":")[0]), ["- deploy tool", "- deploy region", "- deploy rollback", "- lunch"]);
  assert.deepEqual(sectionTitles(fast), ["Identity", "Constraints", "Facts", "Conversation", "Environment"]);
});
