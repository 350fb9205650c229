// The WebGPU backend against the float64 CPU oracle, on a tiny random-weight model built here.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CanceledError } from "../../src/errors.ts";
import { SeededRandom } from "../../src/engine/random.ts";
import { InferenceEngine, type StreamEvent, type PullProgress } from "../../src/inference/index.ts";
import { createWebGpuBackend, loadWebGpuModel } from "../../adapters/inference/webgpu/backend.ts";
import type { WebGpuModel } from "../../adapters/inference/webgpu/webgpu-model.ts";
import { fsModelFiles } from "../../adapters/inference/fs-model-files.ts";
import { writeTinyModel, type TinyModel } from "./tiny-model.ts";
import { ReferenceLlama } from "./reference-llama.ts";
import { webgpuForTests } from "./gpu-env.ts";
import { serveFolder } from "./serve-folder.ts";

const env = await webgpuForTests();
const skip = env.skip ?? false;
if (env.skip) console.log(`# webgpu tests skipped: ${env.skip}`);

let root = "";
let tiny: TinyModel;
let model: WebGpuModel;
let ref: ReferenceLlama;
const PROMPT = "the cat sat on the mat and then it ran";

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

before(async () => {
  if (skip) return;
  root = await mkdtemp(join(tmpdir(), "car-webgpu-"));
  tiny = await writeTinyModel(join(root, "llama"));
  ref = new ReferenceLlama(tiny);
  // A small prefill chunk so prompts span several forward passes.
  model = await loadWebGpuModel(fsModelFiles(tiny.dir), { gpu: env.gpu!, prefillChunk: 5, maxContext: 64 });
});

after(async () => {
  await model?.dispose();
  if (root) await rm(root, { recursive: true, force: true });
});

test("f32 logits match the CPU oracle within 1e-3 (prompt over several prefill chunks)", { skip }, async () => {
  const ids = model.tokenizer.encode(PROMPT);
  assert.ok(ids.length > 10);
  const got = await model.logits(ids);
  const want = ref.forward(ids).logits.at(-1)!;
  assert.ok(maxDiff(got, want) < 1e-3, `max diff ${maxDiff(got, want)}`);
});

test("Qwen2-style biases, tied embeddings and f16 weights match the oracle within 1e-3", { skip }, async () => {
  for (const opts of [{ bias: true, tied: true, dtype: "F32" as const }, { dtype: "F16" as const, kvHeads: 1 }]) {
    const t = await writeTinyModel(join(root, `v-${opts.dtype}-${"bias" in opts}`), { ...opts, seed: 11 });
    const m = await loadWebGpuModel(fsModelFiles(t.dir), { gpu: env.gpu!, maxContext: 32 });
    try {
      const ids = m.tokenizer.encode("she is here");
      const d = maxDiff(await m.logits(ids), new ReferenceLlama(t).forward(ids).logits.at(-1)!);
      assert.ok(d < 1e-3, `${JSON.stringify(opts)}: max diff ${d}`);
    } finally {
      await m.dispose();
    }
  }
});

test("decoding with the KV cache equals recomputing the whole sequence", { skip }, async () => {
  const ids = model.tokenizer.encode("in the");
  const seq = [...ids];
  let r = await model.gpu.forward(seq, 0, { logits: true });
  for (let step = 0; step < 6; step++) {
    const V = tiny.config.vocab;
    const last = r.logits!.subarray((r.logits!.length / V - 1) * V);
    let next = 0;
    for (let k = 1; k < V; k++) if (last[k]! > last[next]!) next = k;
    seq.push(next);
    r = await model.gpu.forward([next], seq.length - 1, { logits: true });
    const cached = r.logits!;
    const full = await model.logits(seq); // fresh pass over the whole sequence (rewrites the same cache)
    assert.ok(maxDiff(cached, full) < 1e-4, `step ${step}: ${maxDiff(cached, full)}`);
  }
});

test("greedy generation equals the oracle's tokens and is deterministic", { skip }, async () => {
  const ids = model.tokenizer.encode(PROMPT);
  const want = ref.greedy(ids, 12, tiny.eosId);
  const run = async () => {
    const got: number[] = [];
    await model.generateIds(ids, { maxTokens: 12, temperature: 0, topK: 0, topP: 1, random: new SeededRandom(1) }, () => {}, undefined, (id) => got.push(id));
    return got;
  };
  assert.deepEqual(await run(), want);
  assert.deepEqual(await run(), want);
});

test("sampling: same seed same tokens; top_k=1 is greedy; top_k=3 draws only from the oracle's top 3", { skip }, async () => {
  const ids = model.tokenizer.encode("on the");
  const sample = async (seed: number, topK: number, topP = 1) => {
    const got: number[] = [];
    await model.generateIds(ids, { maxTokens: 8, temperature: 1.5, topK, topP, random: new SeededRandom(seed) }, () => {}, undefined, (id) => got.push(id));
    return got;
  };
  assert.deepEqual(await sample(5, 0), await sample(5, 0));
  assert.deepEqual(await sample(5, 1), ref.greedy(ids, 8, tiny.eosId));
  const drawn = await sample(9, 3);
  const seq = [...ids];
  for (const tok of drawn) {
    const l = ref.forward(seq).logits.at(-1)!;
    const top3 = [...l.keys()].sort((a, b) => l[b]! - l[a]!).slice(0, 3);
    assert.ok(top3.includes(tok), `token ${tok} not in top 3 ${top3}`);
    seq.push(tok);
  }
  const nucleus = await sample(3, 0, 0.01); // a tiny top_p keeps only the most likely token
  assert.deepEqual(nucleus, ref.greedy(ids, 8, tiny.eosId));
});

/** The tiny tokenizer has <|im_start|>, so chat requests use the ChatML format. */
function chatPrompt(): number[] {
  const ids = model.tokenizer.chatIds([{ role: "user", content: PROMPT }]);
  assert.equal(model.tokenizer.format, "chatml");
  return ids;
}

function engineWith(): InferenceEngine {
  return new InferenceEngine({ backends: { webgpu: createWebGpuBackend({ gpu: env.gpu!, openPath: fsModelFiles, maxContext: 96 }) }, random: new SeededRandom(3) });
}

test("engine: infer, infer_stream (same text), usage, and streaming events through a registered folder", { skip }, async () => {
  const engine = engineWith();
  try {
    await engine.registry.register({ id: "tiny", name: "tiny", capabilities: ["generate", "embed", "classify", "rerank"], source: { type: "local", path: tiny.dir } });
    const want = model.tokenizer.decode(ref.greedy(chatPrompt(), 10, tiny.eosId));
    const r = await engine.generate({ model: "tiny", prompt: PROMPT, max_tokens: 10, temperature: 0 });
    assert.equal(r.text, want);
    assert.equal(r.model_used, "tiny");
    assert.equal(r.usage?.completion_tokens, ref.greedy(chatPrompt(), 10, tiny.eosId).length);
    assert.equal(r.usage?.prompt_tokens, chatPrompt().length);
    const events: StreamEvent[] = [];
    for await (const e of engine.stream({ model: "tiny", prompt: PROMPT, max_tokens: 10, temperature: 0 })) events.push(e);
    const streamed = events.filter((e) => e.type === "text").map((e) => (e as { data: string }).data).join("");
    assert.equal(streamed, r.text);
    assert.deepEqual(events.map((e) => e.type).filter((t) => t !== "text"), ["usage", "stop_reason", "done"]);
    assert.equal((events.at(-1) as { text: string }).text, r.text);
  } finally {
    await engine.close();
  }
});

test("an abort stops generation within one token", { skip }, async () => {
  const ac = new AbortController();
  let texts = 0;
  let passesAtAbort = 0;
  await assert.rejects(
    model.generate({ messages: [{ role: "user", content: PROMPT }], maxTokens: 40, temperature: 0, topK: 0, topP: 1, random: new SeededRandom(1) }, () => {
      texts++;
      if (texts === 2) {
        passesAtAbort = model.forwardPasses;
        ac.abort("user stop");
      }
    }, ac.signal),
    (e: unknown) => e instanceof CanceledError && /user stop/.test(e.message),
  );
  assert.equal(texts, 2);
  assert.ok(model.forwardPasses - passesAtAbort <= 1, `${model.forwardPasses - passesAtAbort} passes after the abort`);
});

test("URL source: pull with progress over 127.0.0.1, then the same greedy text as the local folder", { skip }, async () => {
  const srv = await serveFolder(tiny.dir);
  const engine = engineWith();
  try {
    await engine.registry.register({ id: "remote", name: "remote", source: { type: "local", url: srv.url } });
    const progress: PullProgress[] = [];
    const pulled = await engine.pull("remote", { onProgress: (p) => progress.push(p) });
    assert.equal(pulled.weights_ready, true);
    assert.ok(progress.some((p) => p.phase === "weights" && p.loaded_bytes > 0));
    assert.deepEqual(progress.at(-1), { model_id: "remote", phase: "ready", loaded_bytes: progress.at(-1)!.total_bytes, total_bytes: progress.at(-1)!.total_bytes, done: true });
    assert.ok(srv.requests.includes("/model.safetensors"));
    const r = await engine.generate({ model: "remote", prompt: PROMPT, max_tokens: 6, temperature: 0 });
    assert.equal(r.text, model.tokenizer.decode(ref.greedy(chatPrompt(), 6, tiny.eosId)));
    const rows = engine.registry.listUnified(engine.isAvailable);
    assert.equal(rows[0]!.weights_ready, true);
    assert.equal(rows[0]!.downloads_weights, true);
  } finally {
    await engine.close();
    await srv.close();
  }
});

test("embed is the normalised mean of final hidden states; classify and rerank follow the oracle", { skip }, async () => {
  const engine = engineWith();
  try {
    await engine.registry.register({ id: "tiny", name: "tiny", capabilities: ["generate", "embed", "classify", "rerank"], source: { type: "local", path: tiny.dir } });
    const texts = ["the cat", "a dog ran on"];
    const { embeddings } = await engine.embed({ texts });
    texts.forEach((t, i) => {
      const hs = ref.forward(model.tokenizer.encode(t, true)).hidden;
      const mean = hs[0]!.map((_, c) => hs.reduce((s, h) => s + h[c]!, 0) / hs.length);
      const n = Math.hypot(...mean);
      assert.ok(maxDiff(embeddings[i]!, mean.map((v) => v / n)) < 1e-3);
    });
    const { classifications } = await engine.classify({ text: "the cat sat", labels: ["on", "the", "ran"] });
    assert.equal(classifications.length, 3);
    assert.ok(Math.abs(classifications.reduce((s, c) => s + c.score, 0) - 1) < 1e-9);
    const mean = (label: string) => {
      const p = model.tokenizer.encode("Text: the cat sat\nLabel:", true);
      const c = model.tokenizer.encode(` ${label}`);
      const logits = ref.forward([...p, ...c]).logits;
      let s = 0;
      c.forEach((tok, i) => {
        const l = logits[p.length - 1 + i]!;
        const m = Math.max(...l);
        s += l[tok]! - m - Math.log(l.reduce((a, x) => a + Math.exp(x - m), 0));
      });
      return s / c.length;
    };
    const best = ["on", "the", "ran"].sort((a, b) => mean(b) - mean(a))[0];
    assert.equal(classifications[0]!.label, best);
    const { ranked } = await engine.rerank({ query: "the cat", documents: ["a dog ran on", "the cat", "is here"], top_n: 2 });
    assert.equal(ranked.length, 2);
    assert.equal(ranked[0]!.document, "the cat"); // identical text → cosine 1
    assert.ok(Math.abs(ranked[0]!.score - 1) < 1e-3);
  } finally {
    await engine.close();
  }
});

test("bad model folders fail with clear errors", { skip }, async () => {
  const engine = engineWith();
  try {
    await engine.registry.register({ id: "none", name: "none", source: { type: "local", path: join(root, "does-not-exist") } });
    await assert.rejects(engine.generate({ model: "none", prompt: "x" }), /missing config\.json/);
    const srv = await serveFolder(join(root, "does-not-exist"));
    try {
      await engine.registry.register({ id: "404", name: "404", source: { type: "local", url: srv.url } });
      await assert.rejects(engine.pull("404"), /missing config\.json/);
    } finally {
      await srv.close();
    }
  } finally {
    await engine.close();
  }
});
