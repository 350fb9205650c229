/**
 * car-server/browser in a real browser: headless Chromium loads pages bundled from
 * test/browser/pages with esbuild, served from 127.0.0.1. Skipped (with the reason) where
 * /usr/bin/chromium is missing.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelTokenizer } from "../../adapters/inference/webgpu/tokenizer.ts";
import type { Event } from "../../src/index.ts";
import { ReferenceLlama } from "../inference/reference-llama.ts";
import { writeTinyModel } from "../inference/tiny-model.ts";
import { STORAGE_CASES } from "../storage/storage-cases.ts";
import { APPEND_LOG_CASES } from "../storage/append-log-cases.ts";
import { startDaemon } from "../daemon/harness.ts";
import { bundleForBrowser } from "./bundle.ts";
import { chromiumSkipReason, launchChromium, modulePage, servePages, type Chromium, type PageServer } from "./chromium.ts";

const skip = chromiumSkipReason();
if (skip) console.log(`# browser tests skipped: ${skip}`);

const HERE = import.meta.dirname;
const PROMPT = "the cat sat on the mat";
let chrome: Chromium | undefined;
let server: PageServer | undefined;
let root = "";
let modelUrl = "";
let expectedText = "";

before(async () => {
  if (skip) return;
  const b = await bundleForBrowser(
    { "runtime-page": join(HERE, "pages/runtime-page.ts"), "conformance-page": join(HERE, "pages/conformance-page.ts") },
    { shims: { "node:test": join(HERE, "shims/node-test.ts"), "node:assert/strict": join(HERE, "shims/assert-strict.ts") } },
  );
  assert.deepEqual(b.errors, []);
  assert.deepEqual(b.nodeImports, []);
  const files = new Map<string, string>([
    ["/runtime.html", modulePage("/runtime-page.js")],
    ["/conformance.html", modulePage("/conformance-page.js")],
  ]);
  for (const [name, text] of b.files) if (name.endsWith(".js")) files.set(`/${name}`, text);

  root = await mkdtemp(join(tmpdir(), "car-browser-"));
  const tiny = await writeTinyModel(join(root, "tiny"));
  const tokenizer = new ModelTokenizer(JSON.parse(await readFile(join(tiny.dir, "tokenizer.json"), "utf8")), JSON.parse(await readFile(join(tiny.dir, "tokenizer_config.json"), "utf8")), [tiny.eosId]);
  const ids = tokenizer.chatIds([{ role: "user", content: PROMPT }]);
  expectedText = tokenizer.decode(new ReferenceLlama(tiny).greedy(ids, 6, tiny.eosId));

  server = await servePages(files, { tiny: tiny.dir });
  modelUrl = `${server.url}/static/tiny/`;
  chrome = await launchChromium();
});

after(async () => {
  await chrome?.close();
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** Opens a page and waits for its module to install `global`. */
async function open(path: string, global: string): Promise<void> {
  const page = chrome!.page;
  await page.goto(`${server!.url}${path}`);
  await page.waitForFunction((g) => (globalThis as Record<string, unknown>)[g] !== undefined, global, { timeout: 20_000 });
}

/** Fails with the page's console when `fn` throws (an error in the page says more there). */
async function inPage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new Error(`${(err as Error).message}\npage console:\n${chrome!.log.slice(-30).join("\n")}`);
  }
}

const noHash = (events: Event[]) => events.map(({ kind, action_id, proposal_id }) => ({ kind, action_id, proposal_id }));

test("a proposal run in the page with IndexedDB persistence is all there after a reload, and one left running finishes", { skip, timeout: 60_000 }, async () => {
  await open("/runtime.html", "carPage");
  const one = (await inPage(() => chrome!.page.evaluate((u) => globalThis.carPage.phase1(u), modelUrl))) as Record<string, any>;
  assert.deepEqual(one.recoveryAtStart, { records: 0, events: 0, snapshot_offset: null, state_keys: 0, resumed: [] }, "a fresh profile starts empty");
  assert.deepEqual(one.ok.status, [["w", "succeeded"], ["d", "succeeded"], ["s", "succeeded"]]);
  assert.deepEqual(one.ok.doubled, { doubled: 42 });
  assert.deepEqual(one.aborted, [["w2", "succeeded", true], ["r", "failed", false]]);
  const state = { counter: 21, doubled: 42, note: { text: "héllo 😀", list: [1, null, true] } };
  assert.deepEqual(one.state, state);

  await chrome!.page.reload();
  await chrome!.page.waitForFunction(() => globalThis.carPage !== undefined);
  const two = (await inPage(() => chrome!.page.evaluate(() => globalThis.carPage.phase2()))) as Record<string, any>;
  const events = one.events as Event[];
  assert.deepEqual(two.recovery, { records: events.length, events: events.length, snapshot_offset: null, state_keys: 5 });
  // The proposal the reload cut off: its durable first step was adopted, the rest ran once in the new page.
  assert.deepEqual(two.resumed, [
    {
      proposal_id: "p-resume",
      adopted: ["first"],
      rerun: ["wait", "last"],
      interrupted: ["wait"],
      result: [["first", "succeeded", true], ["wait", "succeeded", "finished after the reload"], ["last", "succeeded", "finished after the reload"]],
    },
  ]);
  assert.equal(two.slowCalls, 1);
  assert.deepEqual(two.state, { ...state, started: true, resumed: "finished after the reload" });
  assert.deepEqual(two.events.slice(0, events.length), events, "the event log after the reload starts with the one before it, hashes included");
  assert.deepEqual(noHash(two.events).filter((e) => e.kind === "proposal_completed").map((e) => e.proposal_id), ["p-double", "p-abort", "p-resume"]);
  assert.equal(two.journalLength, two.events.length, "each event is journaled once");
  assert.deepEqual(two.chain, { verified: two.events.length }, "the hash chain verifies across the reload");
  assert.deepEqual(two.checkpoints, [one.checkpointId]);
  assert.equal(two.hits[0], one.factId, "the memory fact is found after the reload");
  assert.deepEqual(two.models, ["tiny"], "the model registration persisted in IndexedDB");
  assert.deepEqual(two.next, { status: ["succeeded", "succeeded", "succeeded"], quadrupled: "succeeded" });
  assert.equal(two.verified, true);
  assert.deepEqual(two.restoredCp, { checkpoint_id: one.checkpointId, keys: 3, missing_tools: [] });
  assert.deepEqual(two.afterRestore, state, "the checkpoint's state (quadrupled and the resumed keys are gone)");
  assert.equal(two.closedError?.code, "storage_error", "a closed runtime refuses proposals");
  assert.deepEqual(two.reopened.state, state, "the restored checkpoint state was journaled");
  assert.ok(two.reopened.recovery.records > two.events.length, "and the journal kept growing");
  assert.deepEqual(two.reopened.recovery.resumed, []);
  assert.deepEqual(two.reopened.chain, { verified: two.reopened.recovery.events });
  assert.deepEqual(two.databases, ["car-browser-test", "car-browser-test-journal"]);
  assert.equal(two.clientIsAClass, true, "CarClient is exported by car-server/browser");
});

test("storage conformance suites pass on Chromium's IndexedDB", { skip, timeout: 120_000 }, async (t) => {
  await open("/conformance.html", "carConformance");
  const outcomes = await inPage(() => chrome!.page.evaluate(() => globalThis.carConformance.run("conformance")));
  assert.equal(outcomes.length, STORAGE_CASES.length + APPEND_LOG_CASES.length, "every case ran");
  for (const o of outcomes) {
    await t.test(o.name, o.status === "skip" ? { skip: o.error ?? true } : {}, () => {
      if (o.status === "fail") assert.fail(o.error);
    });
  }
  assert.deepEqual(outcomes.filter((o) => o.status !== "pass").map((o) => `${o.name}: ${o.error}`), []);
});

test("the WebGPU backend generates in the page what the CPU oracle computes", { skip, timeout: 60_000 }, async (t) => {
  await open("/runtime.html", "carPage");
  const r = (await inPage(() => chrome!.page.evaluate(([u, p]) => globalThis.carPage.generate(u, p, 6), [modelUrl, PROMPT] as const))) as Record<string, any>;
  if (r.skipped) {
    t.skip(r.skipped);
    return;
  }
  assert.equal(r.text, expectedText);
  assert.ok(r.completionTokens > 0);
  assert.equal(r.notFound?.code, "not_found", JSON.stringify(r.notFound));
});

test("CarClient in the page drives a real daemon; a page from an origin not allowed is refused", { skip, timeout: 60_000 }, async () => {
  const d = await startDaemon("node", ["--ephemeral", "--allow-origin", server!.url]);
  try {
    const token = (await readFile(join(d.carHome, "auth-token"), "utf8")).trim();
    await open("/runtime.html", "carPage");
    for (const encoding of ["json", "msgpack"] as const) {
      const r = await inPage(() => chrome!.page.evaluate(([u, t, e]) => globalThis.carPage.client(u, t, e), [d.url, token, encoding] as const));
      assert.deepEqual(r, { statuses: ["succeeded", "succeeded"], total: 105 }, `${encoding}: the tool ran in the page`);
    }
    // Same page, other origin (localhost is not 127.0.0.1 to the daemon's allow-list).
    await chrome!.page.goto(`${server!.url.replace("127.0.0.1", "localhost")}/runtime.html`);
    await chrome!.page.waitForFunction(() => globalThis.carPage !== undefined);
    const refused = (await chrome!.page.evaluate(([u, t]) => globalThis.carPage.client(u, t, "json"), [d.url, token] as const)) as { error?: { message: string } };
    assert.ok(refused.error, `refused: ${JSON.stringify(refused)}`);
    await d.waitStderr("refused a WebSocket upgrade from origin");
  } finally {
    await d.dispose();
  }
});
