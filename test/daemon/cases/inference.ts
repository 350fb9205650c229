// Inference over the daemon: a tiny random-weight Llama folder given with --model, compared with
// the same engine run in this (Node) process; models.*, admission and the delegated runner need no GPU.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { CarClient, RpcError, type StreamEvent } from "../../../adapters/client/node.ts";
import { fsModelFiles } from "../../../adapters/inference/fs-model-files.ts";
import { createWebGpuBackend } from "../../../adapters/inference/webgpu/backend.ts";
import { InferenceEngine } from "../../../src/inference/engine.ts";
import { webgpuForTests } from "../../inference/gpu-env.ts";
import { writeTinyModel } from "../../inference/tiny-model.ts";
import { runRefused, startDaemon, type Daemon, type RuntimeName } from "../harness.ts";
import { expectError, tokenOf } from "../helpers.ts";
import { RawSocket } from "../raw-socket.ts";

const MODEL = "tiny-llama";
const CAPS = ["generate", "embed", "classify", "rerank"] as const;
const GREEDY = { model: MODEL, prompt: "the cat sat on", max_tokens: 12, temperature: 0 };

function rpcError(err: unknown): { rpcCode: number; message: string; carCode: unknown } {
  assert.ok(err instanceof RpcError, `expected an RpcError, got ${String(err)}`);
  return { rpcCode: err.rpcCode, message: err.message, carCode: (err.data as { car_code?: unknown } | undefined)?.car_code };
}

function close(a: number[], b: number[], tol: number): boolean {
  return a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) <= tol);
}

/** Cases of a daemon started with `--model <tiny folder>` (its own daemon, started by these cases). */
export function inferenceCases(rt: RuntimeName): void {
  let root = "";
  let daemon: Daemon | undefined;
  let local: InferenceEngine | undefined;
  const clients: CarClient[] = [];
  const client = () => {
    const c = new CarClient({ url: daemon!.url, token: tokenOf(daemon!), reconnect: false });
    clients.push(c);
    return c;
  };
  let car: CarClient;
  let gpu: Promise<string | undefined> | undefined;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "car-daemon-inf-"));
    const tiny = await writeTinyModel(join(root, MODEL));
    daemon = await startDaemon(rt, ["--model", tiny.dir], { CAR_INFERENCE_MAX_CONCURRENT: "2" });
    car = client();
  });
  after(async () => {
    for (const c of clients) c.close();
    await local?.close();
    await daemon?.dispose();
    if (root) await rm(root, { recursive: true, force: true });
  });

  /**
   * Why the WebGPU cases cannot run, or undefined: this process needs an adapter for the in-process
   * engine, and the daemon's runtime needs one (it answers `unsupported` when it has none).
   */
  const gpuSkip = (t: TestContext): Promise<boolean> => {
    gpu ??= (async () => {
      const env = await webgpuForTests();
      if (env.skip) return `in-process engine: ${env.skip}`;
      local = new InferenceEngine({ backends: { webgpu: createWebGpuBackend({ openPath: fsModelFiles, gpu: env.gpu }) } });
      await local.registry.register({ id: MODEL, name: MODEL, capabilities: [...CAPS], source: { type: "local", path: join(root, MODEL) } }, { persist: false });
      try {
        await car.modelsPull(MODEL);
      } catch (err) {
        const e = rpcError(err);
        if (e.carCode === "unsupported" && /WebGPU/.test(e.message)) return `${rt} daemon: ${e.message}`;
        throw err;
      }
      return undefined;
    })();
    return gpu.then((reason) => {
      if (reason) t.skip(reason);
      return reason !== undefined;
    });
  };

  test("models.list and models.list_unified show the --model folder; admission.status reads CAR_INFERENCE_MAX_CONCURRENT", async () => {
    const { models } = await car.modelsList();
    const m = models.find((x) => x.id === MODEL);
    assert.ok(m, JSON.stringify(models));
    assert.deepEqual(m.source, { type: "local", path: join(root, MODEL), backend: "webgpu" });
    assert.deepEqual(m.capabilities, [...CAPS]);
    const row = (await car.modelsListUnified()).models.find((x) => x.id === MODEL)!;
    assert.equal(row.is_local, true);
    assert.equal(row.available, true);
    assert.deepEqual(await car.admissionStatus(), { permits_total: 2, permits_available: 2, permits_in_use: 0, queued: 0, env_override: true });
  });

  test("models.register, route, remove; bad params are -32602, an unknown model is not_found", async () => {
    const reg = await car.modelsRegister({ id: "second", name: "Second", capabilities: ["generate", "code"], source: { type: "local", path: join(root, MODEL) }, trust_tier: "builtin" });
    assert.equal(reg.registered, true);
    assert.equal(reg.model.trust_tier, "community");
    assert.deepEqual((await car.modelsList()).models.map((x) => x.id), ["second", MODEL]);
    const route = await car.modelsRoute({ prompt: "write a function", intent: { task: "code", require: ["code"] } });
    assert.equal(route.model_id, "second");
    assert.equal((await car.modelsRoute({ prompt: "hi", intent: { require: ["embed"] } })).model_id, MODEL);
    assert.deepEqual(await car.modelsRemove("second"), { removed: true });
    assert.deepEqual(await car.modelsRemove("second"), { removed: false });
    assert.deepEqual((await car.modelsList()).models.map((x) => x.id), [MODEL]);
    const bad = rpcError(await car.infer({ model: MODEL } as never).catch((e: unknown) => e));
    assert.equal(bad.rpcCode, -32602);
    assert.match(bad.message, /messages or prompt is required/);
    const unknown = rpcError(await car.infer({ model: "nope", prompt: "x" }).catch((e: unknown) => e));
    assert.deepEqual([unknown.rpcCode, unknown.carCode], [-32603, "not_found"]);
    assert.match(unknown.message, /unknown model 'nope'/);
  });

  test("infer_stream and the runner methods are WebSocket-only: POST /rpc answers -32601", async () => {
    const res = await fetch(`${daemon!.http}/rpc`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokenOf(daemon!)}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "infer_stream", params: { prompt: "x" } }),
    });
    expectError((await res.json()) as Record<string, unknown>, -32601, 1);
  });

  test("infer: greedy text equals the in-process engine's; tokenize/detokenize round-trip", async (t) => {
    if (await gpuSkip(t)) return;
    const want = await local!.generate(GREEDY);
    const got = await car.infer(GREEDY);
    assert.ok(want.text.length > 0);
    assert.equal(got.text, want.text);
    assert.equal(got.model_used, MODEL);
    assert.equal(got.stop_reason, want.stop_reason);
    assert.deepEqual(got.usage, want.usage);
    const again = await car.infer(GREEDY);
    assert.equal(again.text, got.text);
    const tok = await car.tokenize({ text: "the cat sat", model: MODEL });
    assert.equal(tok.count, tok.tokens.length);
    assert.equal((await car.detokenize({ tokens: tok.tokens, model: MODEL })).text, "the cat sat");
    const stats = (await car.modelsStats()).profiles.find((p) => p.model_id === MODEL)!;
    assert.ok(stats.total_calls >= 2 && stats.success_count === stats.total_calls, JSON.stringify(stats));
  });

  test("infer_stream: inference.stream.event text deltas, usage, stop_reason, then the result with the same text", async (t) => {
    if (await gpuSkip(t)) return;
    const seen: StreamEvent[] = [];
    const r = await car.inferStream(GREEDY, { onEvent: (e) => seen.push(e) });
    assert.deepEqual(r.events, seen);
    const texts = r.events.filter((e): e is Extract<StreamEvent, { type: "text" }> => e.type === "text");
    assert.ok(texts.length >= 1);
    assert.equal(texts.map((e) => e.data).join(""), r.text);
    assert.equal(r.text, (await local!.generate(GREEDY)).text);
    assert.deepEqual(r.events.slice(-2).map((e) => e.type), ["usage", "stop_reason"]);
    assert.ok(!r.events.some((e) => e.type === "done"), "infer_stream success ends with the result, not a done event");
  });

  test("embed, classify and rerank equal the in-process engine's", async (t) => {
    if (await gpuSkip(t)) return;
    const texts = ["the cat sat", "a dog ran on the mat"];
    const e = await car.embed({ texts, model: MODEL });
    const we = await local!.embed({ texts, model: MODEL });
    assert.equal(e.embeddings.length, 2);
    for (let i = 0; i < 2; i++) {
      assert.equal(e.embeddings[i]!.length, 64);
      assert.ok(Math.abs(Math.hypot(...e.embeddings[i]!) - 1) < 1e-4);
      assert.ok(close(e.embeddings[i]!, we.embeddings[i]!, 1e-4));
    }
    const c = await car.classify({ text: "the cat sat", labels: ["on", "the", "ran"], model: MODEL });
    const wc = await local!.classify({ text: "the cat sat", labels: ["on", "the", "ran"], model: MODEL });
    assert.deepEqual(c.classifications.map((x) => x.label), wc.classifications.map((x) => x.label));
    assert.ok(close(c.classifications.map((x) => x.score), wc.classifications.map((x) => x.score), 1e-4));
    assert.ok(Math.abs(c.classifications.reduce((s, x) => s + x.score, 0) - 1) < 1e-4);
    const docs = ["a dog ran on", "the cat", "is here"];
    const r = await car.rerank({ query: "the cat", documents: docs, top_n: 2, model: MODEL });
    const wr = await local!.rerank({ query: "the cat", documents: docs, top_n: 2, model: MODEL });
    assert.deepEqual(r.ranked.map((x) => [x.index, x.document]), wr.ranked.map((x) => [x.index, x.document]));
    assert.equal(r.model_used, MODEL);
    const row = (await car.modelsListUnified()).models.find((x) => x.id === MODEL)!;
    assert.equal(row.weights_ready, true);
  });

  test("delegated runner: a client registered as runner serves a delegated model (infer and infer_stream), fails, and dies with its connection", async () => {
    await car.modelsRegister({ id: "delegate", name: "Delegate", capabilities: ["generate"], source: { type: "delegated" } });
    const row = () => car.modelsListUnified().then((r) => r.models.find((x) => x.id === "delegate")!.available);
    assert.equal(await row(), false);
    const noRunner = rpcError(await car.infer({ model: "delegate", prompt: "x" }).catch((e: unknown) => e));
    assert.match(noRunner.message, /no runner registered/);

    const runner = client();
    const requests: unknown[] = [];
    let hung = false;
    assert.deepEqual(await runner.registerRunner(async (request, call) => {
      requests.push({ prompt: request.prompt, model: request.model, client_ref: request.client_ref });
      if (request.prompt === "fail") throw new Error("model exploded");
      if (request.prompt === "hang") {
        hung = true;
        return await new Promise<string>(() => {});
      }
      if (request.prompt === "plain") return "whole answer";
      await call.emit({ type: "text", data: "Hel" });
      await call.emit({ type: "text", data: "lo" });
      await call.emit({ type: "usage", input_tokens: 3, output_tokens: 2 });
      return { text: "ignored: the streamed text wins" };
    }), { registered: true });
    assert.equal(await row(), true);

    const r = await car.infer({ model: "delegate", prompt: "hi", client_ref: "ref-1" });
    assert.equal(r.text, "Hello");
    assert.equal(r.model_used, "delegate");
    assert.equal(r.usage?.output_tokens, 2);
    assert.deepEqual(requests[0], { prompt: "hi", model: "delegate", client_ref: "ref-1" });
    assert.equal((await car.infer({ model: "delegate", prompt: "plain" })).text, "whole answer");
    const s = await car.inferStream({ model: "delegate", prompt: "hi" });
    assert.deepEqual(s.events.map((e) => (e.type === "text" ? e.data : e.type)), ["Hel", "lo", "usage", "stop_reason"]);
    assert.equal(s.text, "Hello");
    const failed = rpcError(await car.infer({ model: "delegate", prompt: "fail" }).catch((e: unknown) => e));
    assert.deepEqual([failed.rpcCode, failed.carCode], [-32603, "tool_error"]);
    assert.match(failed.message, /runner failed: model exploded/);

    // The runner's connection closes mid-call: the call fails at once, and the model is unavailable.
    const pending = car.infer({ model: "delegate", prompt: "hang" }).catch((e: unknown) => e);
    while (!hung) await new Promise((res) => setTimeout(res, 5));
    runner.close();
    assert.match(rpcError(await pending).message, /runner disconnected/);
    assert.equal(await row(), false);
    assert.deepEqual(await car.admissionStatus().then((a) => a.permits_in_use), 0);
  });

  test("inference.runner.* from a connection that owns no such call: not_found; a missing call_id: -32602", async () => {
    const s = await RawSocket.open(daemon!.url);
    await s.call("a", "session.auth", { token: tokenOf(daemon!) });
    const err = expectError(await s.call(1, "inference.runner.complete", { call_id: "run-nope", result: { text: "x" } }), -32603, 1);
    assert.equal((err.data as { car_code: string }).car_code, "not_found");
    expectError(await s.call(2, "inference.runner.event", { event: { type: "text", data: "x" } }), -32602, 2);
    s.close();
  });

  test("--model refuses a missing folder or one without config.json (exit 1)", async () => {
    const missing = await runRefused(rt, ["--port", "0", "--model", join(root, "no-such-model")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--model .*no-such-model: no such directory/);
    const empty = await runRefused(rt, ["--port", "0", "--model", root]);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /no config\.json/);
  });

  test("a daemon that finds no WebGPU adapter still starts; inference calls fail with a clear unsupported error", async (t) => {
    // No Vulkan driver at all, and Deno kept to Vulkan (its wgpu would fall back to GL): no adapter.
    const bare = await startDaemon(rt, ["--ephemeral", "--model", join(root, MODEL)], { VK_ICD_FILENAMES: "/nonexistent/icd.json", VK_DRIVER_FILES: "/nonexistent/icd.json", DENO_WEBGPU_BACKEND: "vulkan" });
    const c = new CarClient({ url: bare.url, token: tokenOf(bare), reconnect: false });
    try {
      assert.deepEqual((await c.modelsList()).models.map((m) => m.id), [MODEL]);
      const outcome = await c.infer(GREEDY).catch((e: unknown) => e);
      if (!(outcome instanceof Error)) return t.skip(`${rt} finds a WebGPU adapter without a Vulkan driver here`);
      const e = rpcError(outcome);
      assert.deepEqual([e.rpcCode, e.carCode], [-32603, "unsupported"]);
      assert.match(e.message, /no WebGPU adapter found|WebGPU is not available here/);
      assert.equal((await c.admissionStatus()).permits_in_use, 0);
    } finally {
      c.close();
      await bare.dispose();
    }
  });

  test("SIGTERM with a loaded model still exits 0", async () => {
    assert.equal(await daemon!.stop("SIGTERM"), 0);
    assert.doesNotMatch(daemon!.stderr(), /unhandled|TypeError|internal error/i);
  });
}
