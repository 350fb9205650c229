// The InferenceEngine facade with a scripted backend (no GPU needed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { CanceledError, CarError } from "../../src/errors.ts";
import { ManualClock } from "../../src/engine/clock.ts";
import { SeededRandom } from "../../src/engine/random.ts";
import type { Storage, StorageValue } from "../../src/storage/storage.ts";
import { Admission, InferenceEngine, inferenceSettingsFromEnv, StopSequenceFilter, inferenceMethods, type InferenceBackend, type LoadedModel, type RunnerInvoke, type StreamEvent } from "../../src/inference/index.ts";

/** A backend whose model "generates" the characters of a fixed reply, one per token. */
function scripted(reply: string, loads: { n: number } = { n: 0 }): InferenceBackend {
  return {
    name: "webgpu",
    async load(spec) {
      loads.n++;
      const lm: LoadedModel = {
        info: { family: "test", contextLength: 128, vocabSize: 256, paramCount: 1000, sizeBytes: 4000 },
        async generate(req, onText, signal) {
          let text = "";
          for (const ch of reply.slice(0, req.maxTokens)) {
            if (signal?.aborted) throw new CanceledError("test", "aborted");
            text += ch;
            if (onText(ch) === false) return { text, stopReason: "stop_sequence", inputTokens: 3, outputTokens: text.length };
            await Promise.resolve();
          }
          return { text, stopReason: text.length < reply.length ? "max_tokens" : "end_turn", inputTokens: 3, outputTokens: text.length };
        },
        async embed(texts) {
          return texts.map((t) => {
            const v = [t.length, t.includes("cat") ? 5 : 0, 1];
            const n = Math.hypot(...v);
            return v.map((x) => x / n);
          });
        },
        async scoreContinuations(_p, conts) {
          return conts.map((c) => ({ logprob: c.includes("yes") ? -1 : -3, tokens: 1 }));
        },
        tokenize: (t) => [...t].map((c) => c.charCodeAt(0)),
        detokenize: (ids) => String.fromCharCode(...ids),
        async dispose() {},
      };
      void spec;
      return lm;
    },
  };
}

function memoryStorage(): Storage {
  const m = new Map<string, StorageValue>();
  return {
    get: async (k) => m.get(k), set: async (k, v) => void m.set(k, v), delete: async (k) => m.delete(k), has: async (k) => m.has(k),
    list: async (p = "") => [...m.keys()].filter((k) => k.startsWith(p)).sort(),
    batch: async (ops) => ops.forEach((o) => (o.op === "set" ? m.set(o.key, o.value) : m.delete(o.key))),
    compareAndSet: async () => false, close: async () => {},
  };
}

const local = (id: string, extra: object = {}) => ({ id, name: id, capabilities: ["generate", "embed", "classify", "rerank"], source: { type: "local", path: `/models/${id}` }, ...extra });

test("generate streams text, usage and stop_reason; the model loads once", async () => {
  const loads = { n: 0 };
  const engine = new InferenceEngine({ backends: { webgpu: scripted("hello world", loads) }, clock: new ManualClock(), random: new SeededRandom(1) });
  await engine.registry.register(local("m"));
  const events: StreamEvent[] = [];
  const r = await engine.generate({ model: "m", prompt: "hi" }, { onEvent: (e) => events.push(e) });
  assert.equal(r.text, "hello world");
  assert.equal(r.stop_reason, "end_turn");
  assert.deepEqual(r.usage, { prompt_tokens: 3, completion_tokens: 11, total_tokens: 14, input_tokens: 3, output_tokens: 11, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  assert.equal(events.filter((e) => e.type === "text").length, 11);
  assert.deepEqual(events.slice(-2).map((e) => e.type), ["usage", "stop_reason"]);
  await engine.generate({ prompt: "again" }); // routed: the only model
  assert.equal(loads.n, 1);
  assert.equal(engine.stats.get("m").success_count, 2);
});

test("stop sequences cut the text, even when split across tokens", async () => {
  const engine = new InferenceEngine({ backends: { webgpu: scripted("abc END def") } });
  await engine.registry.register(local("m"));
  const texts: string[] = [];
  const r = await engine.generate({ model: "m", prompt: "x", stop: [" END"] }, { onEvent: (e) => e.type === "text" && texts.push(e.data) });
  assert.equal(r.text, "abc");
  assert.equal(texts.join(""), "abc");
  assert.equal(r.stop_reason, "stop_sequence");
  const f = new StopSequenceFilter(["xy"]);
  assert.deepEqual(f.push("ax"), { emit: "a", stopped: false });
  assert.deepEqual(f.push("z"), { emit: "xz", stopped: false });
});

test("bad requests and unknown models are typed errors", async () => {
  const engine = new InferenceEngine({ backends: { webgpu: scripted("x") }, settings: { maxTokensLimit: 10 } });
  await assert.rejects(engine.generate({ messages: [] }), (e: unknown) => e instanceof CarError && e.code === "invalid_input");
  await assert.rejects(engine.generate({ model: "nope", prompt: "x" }), (e: unknown) => e instanceof CarError && e.code === "not_found");
  await engine.registry.register(local("m"));
  await assert.rejects(engine.generate({ model: "m", prompt: "x", max_tokens: 11 }), /maxTokensLimit 10/);
  await assert.rejects(engine.registry.register({ id: "bad", name: "bad", source: { type: "local" } }), /path or a url/);
  await engine.registry.register({ id: "d", name: "d", source: { type: "delegated" } });
  await assert.rejects(engine.generate({ model: "d", prompt: "x" }), /no runner registered/);
});

test("embed, classify, rerank, tokenize go through the loaded model", async () => {
  const engine = new InferenceEngine({ backends: { webgpu: scripted("x") } });
  await engine.registry.register(local("m"));
  const e = await engine.embed({ texts: ["a cat", "dog"] });
  assert.equal(e.embeddings.length, 2);
  assert.ok(Math.abs(Math.hypot(...e.embeddings[0]!) - 1) < 1e-12);
  const c = await engine.classify({ text: "t", labels: ["no", "yes"] });
  assert.equal(c.classifications[0]!.label, "yes");
  assert.ok(Math.abs(c.classifications[0]!.score - 1 / (1 + Math.exp(-2))) < 1e-12);
  const r = await engine.rerank({ query: "cat", documents: ["dog", "the cat"], top_n: 1 });
  assert.deepEqual(r.ranked.map((x) => x.index), [1]);
  assert.deepEqual((await engine.tokenize({ text: "hi" })).tokens, [104, 105]);
  assert.equal((await engine.detokenize({ tokens: [104, 105] })).text, "hi");
  await assert.rejects(engine.embed({ texts: Array(300).fill("x") }), /maxBatchItems/);
});

test("admission: permits, queue, abort while queued, queue full", async () => {
  const a = new Admission(1, 1);
  const r1 = await a.acquire();
  assert.deepEqual(a.status(), { permits_total: 1, permits_available: 0, permits_in_use: 1, queued: 0, env_override: false });
  const ac = new AbortController();
  const waiting = a.acquire(ac.signal);
  await assert.rejects(a.acquire(), (e: unknown) => e instanceof CarError && e.code === "overloaded");
  ac.abort("gone");
  await assert.rejects(waiting, CanceledError);
  const w2 = a.acquire();
  r1();
  r1(); // idempotent
  const r2 = await w2;
  assert.equal(a.status().permits_in_use, 1);
  r2();
  assert.equal(a.status().permits_available, 1);
  assert.deepEqual(inferenceSettingsFromEnv({ CAR_INFERENCE_MAX_CONCURRENT: "3" }, 64 * 2 ** 30), { maxConcurrent: 3, envOverride: true });
  assert.deepEqual(inferenceSettingsFromEnv({}, 20 * 2 ** 30), { maxConcurrent: 2 });
  const e = new InferenceEngine({ settings: inferenceSettingsFromEnv({ CAR_INFERENCE_MAX_CONCURRENT: "2" }) });
  assert.deepEqual(e.admission.status(), { permits_total: 2, permits_available: 2, permits_in_use: 0, queued: 0, env_override: true });
});

test("registry: persisted registrations, list_unified rows, remove", async () => {
  const storage = memoryStorage();
  const e1 = new InferenceEngine({ backends: { webgpu: scripted("x") }, storage });
  await e1.registry.register(local("m", { trust_tier: "builtin", param_count: 7 }));
  const e2 = new InferenceEngine({ backends: { webgpu: scripted("x") }, storage });
  await e2.init();
  assert.equal(e2.registry.require("m").trust_tier, "community");
  const [row] = e2.registry.listUnified(e2.isAvailable);
  assert.equal(row!.available, true);
  assert.equal(row!.weights_ready, false);
  assert.equal(row!.param_count, 7);
  await e2.pull("m");
  assert.equal(e2.registry.listUnified(e2.isAvailable)[0]!.weights_ready, true);
  assert.equal(await e2.registry.remove("m"), true);
  assert.equal(await e2.registry.remove("m"), false);
  const e3 = new InferenceEngine({ storage });
  await e3.init();
  assert.equal(e3.registry.list().length, 0);
});

test("route: capabilities, exclusions, preferences and learned reliability", async () => {
  const engine = new InferenceEngine({ backends: { webgpu: scripted("x") } });
  await engine.registry.register(local("small", { param_count: 100 }));
  await engine.registry.register(local("big", { param_count: 1000 }));
  await engine.registry.register({ id: "emb", name: "emb", capabilities: ["embed"], source: { type: "local", path: "/e" } });
  assert.equal(engine.route({ prompt: "hi", intent: { prefer_fast: true } }).model_id, "small");
  const q = engine.route({ prompt: "hi", intent: { prefer_quality: true } });
  assert.equal(q.model_id, "big");
  assert.deepEqual(q.fallbacks, ["small"]);
  assert.equal(engine.route({ prompt: "hi", intent: { prefer_quality: true, exclude_models: ["big"] } }).model_id, "small");
  assert.throws(() => engine.route({ prompt: "hi", intent: { require: ["vision"] } }), /no available model/);
  for (let i = 0; i < 5; i++) engine.stats.record("big", false, 10);
  assert.equal(engine.route({ prompt: "hi" }).model_id, "small");
});

test("delegated runner: invoke → events → complete; accumulated text wins; fail; bad shapes; disconnect", async () => {
  const engine = new InferenceEngine({ random: new SeededRandom(2) });
  await engine.registry.register({ id: "d", name: "d", source: { type: "delegated" } });
  const sent: RunnerInvoke[] = [];
  engine.runners.register("s1", (inv) => sent.push(inv));
  const events: StreamEvent[] = [];
  const p = engine.generate({ model: "d", prompt: "hi", client_ref: "ref-1" }, { onEvent: (e) => events.push(e) });
  await new Promise((r) => setTimeout(r, 0));
  const call = sent[0]!;
  assert.equal(call.request.client_ref, "ref-1");
  assert.throws(() => engine.runners.event("s1", { call_id: call.call_id, event: { type: "bogus" } }), /unrecognised runner event shape/);
  assert.throws(() => engine.runners.event("other", { call_id: call.call_id, event: { type: "text", data: "x" } }), /unknown call_id/);
  engine.runners.event("s1", { call_id: call.call_id, event: { type: "text", data: "Hel" } });
  engine.runners.event("s1", { call_id: call.call_id, event: { type: "text", data: "lo" } });
  engine.runners.event("s1", { call_id: call.call_id, event: { type: "usage", input_tokens: 2, output_tokens: 2 } });
  engine.runners.complete("s1", { call_id: call.call_id, result: { text: "ignored", tool_calls: [] } });
  const r = await p;
  assert.equal(r.text, "Hello");
  assert.equal(r.usage?.input_tokens, 2);
  assert.deepEqual(events.map((e) => e.type), ["text", "text", "usage", "stop_reason"]);
  const q = engine.generate({ model: "d", prompt: "x" });
  await new Promise((r) => setTimeout(r, 0));
  engine.runners.fail("s1", { call_id: sent[1]!.call_id, error: "model exploded" });
  await assert.rejects(q, /runner failed: model exploded/);
  const z = engine.generate({ model: "d", prompt: "x" });
  await new Promise((r) => setTimeout(r, 0));
  engine.runners.complete("s1", { call_id: sent[2]!.call_id, result: { text: "from result" } });
  assert.equal((await z).text, "from result");
  const w = engine.generate({ model: "d", prompt: "x" });
  await new Promise((r) => setTimeout(r, 0));
  engine.runners.unregister("s1");
  await assert.rejects(w, /runner disconnected/);
});

test("method table: infer_stream notifies inference.stream.event; pull notifies progress; params schemas validate", async () => {
  const engine = new InferenceEngine({ backends: { webgpu: scripted("ok") } });
  await engine.registry.register(local("m"));
  const methods = inferenceMethods(() => engine);
  for (const name of ["infer", "infer_stream", "embed", "classify", "rerank", "models.list", "models.list_unified", "models.register", "models.remove", "models.pull", "models.route", "models.stats", "admission.status", "inference.register_runner", "inference.runner.event", "inference.runner.complete", "inference.runner.fail"]) {
    assert.ok(methods[name], name);
  }
  const notes: Array<[string, unknown]> = [];
  const ctx = { signal: new AbortController().signal, sessionId: "s", requestId: 7, notify: (m: string, p: unknown) => notes.push([m, p]) };
  const m = methods.infer_stream!;
  const r = (await m.handler(m.params.parse({ model: "m", prompt: "x" }), ctx)) as { text: string };
  assert.equal(r.text, "ok");
  assert.deepEqual(notes[0], ["inference.stream.event", { request_id: 7, event: { type: "text", data: "o" } }]);
  const pull = methods["models.pull"]!;
  await pull.handler(pull.params.parse({ id: "m" }), ctx);
  assert.equal(notes.at(-1)![0], "models.pull_progress");
  assert.equal(methods.embed!.params.safeParse({ texts: [] }).success, false);
  const st = methods["admission.status"]!;
  assert.equal(((await st.handler(st.params.parse(undefined), ctx)) as { permits_total: number }).permits_total, 1);
});
