// The inference table as mounted on the server: infer.progress heartbeat, runner cleanup, engineInfer, --model parsing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../src/engine/clock.ts";
import { InferenceEngine, type InferenceBackend } from "../../src/inference/index.ts";
import { engineInfer } from "../../src/inference/engine-infer.ts";
import type { MethodContext } from "../../src/server/context.ts";
import { daemonServicesOver, featureMethods } from "../../src/server/features.ts";
import { inferenceServerMethods } from "../../src/server/methods/inference.ts";
import { createMemoryStorage } from "../../adapters/storage/memory.ts";
import { parseDaemonArgs } from "../../runtimes/cli-args.ts";
import { modelFromArg } from "../../runtimes/inference.ts";

/** A backend whose model answers `reply` once `gate` resolves, recording the temperature it was asked for. */
function gated(reply: string, gate: Promise<void>, seen: { temperature?: number } = {}): InferenceBackend {
  return {
    name: "webgpu",
    async load() {
      return {
        info: { family: "test", contextLength: 64, vocabSize: 10, paramCount: 1, sizeBytes: 4 },
        async generate(req, onText) {
          seen.temperature = req.temperature;
          await gate;
          onText(reply);
          return { text: reply, stopReason: "end_turn", inputTokens: 1, outputTokens: 1 };
        },
        async dispose() {},
      };
    },
  };
}

async function engineWith(backend: InferenceBackend): Promise<InferenceEngine> {
  const engine = new InferenceEngine({ backends: { webgpu: backend } });
  await engine.registry.register({ id: "m", name: "m", source: { type: "local", path: "/m" } }, { persist: false });
  return engine;
}

/** The parts of a MethodContext the inference table uses. */
function fakeContext(requestId: number, sessionId = "s1") {
  const notes: Array<[string, unknown]> = [];
  const closers: Array<() => void> = [];
  const ctx = {
    signal: new AbortController().signal,
    sessionId,
    requestId,
    notify: (m: string, p: unknown) => notes.push([m, p]),
    session: { id: sessionId, data: new Map(), notify: (m: string, p: unknown) => notes.push([m, p]), onClose: (fn: () => void) => (closers.push(fn), () => {}) },
  } as unknown as MethodContext;
  return { ctx, notes, closers };
}

test("infer sends infer.progress {id} every interval while it runs, and stops when it ends; infer_stream does not", async () => {
  let release!: () => void;
  const engine = await engineWith(gated("ok", new Promise<void>((r) => (release = r))));
  const clock = new ManualClock(0, { autoAdvance: false });
  const table = inferenceServerMethods(() => engine, { clock, progressIntervalMs: 1000 });
  const { ctx, notes } = fakeContext(7);
  const running = table["infer"]!.handler({ prompt: "x", model: "m" }, ctx) as Promise<{ text: string }>;
  await new Promise((r) => setTimeout(r, 10));
  clock.advance(999);
  assert.deepEqual(notes, []);
  clock.advance(1);
  clock.advance(1000);
  assert.deepEqual(notes, [["infer.progress", { id: 7 }], ["infer.progress", { id: 7 }]]);
  release();
  assert.equal((await running).text, "ok");
  clock.advance(5000);
  assert.equal(notes.length, 2);

  const s = fakeContext(8);
  await table["infer_stream"]!.handler({ prompt: "x", model: "m" }, s.ctx);
  clock.advance(5000);
  assert.ok(s.notes.every(([m]) => m === "inference.stream.event"), JSON.stringify(s.notes));
  assert.ok(s.notes.length > 0);
});

test("register_runner unregisters the runner when its session closes (one close hook per session)", async () => {
  const engine = await engineWith(gated("", Promise.resolve()));
  const table = inferenceServerMethods(() => engine);
  const { ctx, closers } = fakeContext(1, "runner-session");
  assert.deepEqual(table["inference.register_runner"]!.handler({}, ctx), { registered: true });
  assert.deepEqual(table["inference.register_runner"]!.handler({}, ctx), { registered: true });
  assert.equal(closers.length, 1);
  assert.equal(engine.runners.has(), true);
  closers[0]!();
  assert.equal(engine.runners.has(), false);
  assert.equal(table["inference.register_runner"]!.http, false);
  assert.equal(table["infer_stream"]!.http, false);
  assert.equal(table["infer"]!.http, undefined);
});

test("featureMethods mounts the inference table only with an engine", async () => {
  const storage = createMemoryStorage();
  assert.equal(featureMethods(daemonServicesOver(storage)).some((t) => "infer" in t), false);
  const engine = await engineWith(gated("", Promise.resolve()));
  const names = featureMethods(daemonServicesOver(storage, { inference: engine })).flatMap((t) => Object.keys(t));
  for (const n of ["infer", "infer_stream", "embed", "classify", "rerank", "models.list", "models.list_unified", "models.route", "models.stats", "models.register", "models.remove", "models.pull", "admission.status", "inference.register_runner"]) {
    assert.ok(names.includes(n), n);
  }
});

test("engineInfer: greedy text from the routed model; no model → not_found", async () => {
  const seen: { temperature?: number } = {};
  const engine = await engineWith(gated("distilled", Promise.resolve(), seen));
  assert.equal(await engineInfer(engine)("summarise this"), "distilled");
  assert.equal(seen.temperature, 0);
  assert.equal(await engineInfer(engine, { temperature: 0.5 })("x"), "distilled");
  assert.equal(seen.temperature, 0.5);
  await assert.rejects(engineInfer(new InferenceEngine())("x"), (e: { code?: string; message: string }) => e.code === "not_found" && /no available model/.test(e.message));
});

test("--model: folders resolve to absolute paths, URLs stay; the registry entry is named after the folder", () => {
  const c = parseDaemonArgs(["--model", "models/tiny", "--model", "https://host/org/SmolLM2/"], {}, "/home/u");
  assert.equal(c.models[0], `${process.cwd()}/models/tiny`);
  assert.equal(c.models[1], "https://host/org/SmolLM2/");
  assert.deepEqual(parseDaemonArgs([], {}, "/h").models, []);
  assert.deepEqual(modelFromArg("https://host/org/SmolLM2/"), { id: "SmolLM2", name: "SmolLM2", capabilities: ["generate", "embed", "classify", "rerank"], source: { type: "local", url: "https://host/org/SmolLM2/" } });
  assert.throws(() => modelFromArg("/no/such/folder"), /--model \/no\/such\/folder: no such directory/);
});
