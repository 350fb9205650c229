// The web-llm adapter: loading fails with a clear typed error when the model cannot be fetched.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CarError } from "../../src/errors.ts";
import { InferenceEngine } from "../../src/inference/index.ts";
import { createWebLlmBackend } from "../../adapters/inference/web-llm.ts";
import { serveFolder } from "./serve-folder.ts";

test("web-llm: a model URL that answers 404 gives a not_found CarError naming the URL", async () => {
  const empty = await mkdtemp(join(tmpdir(), "car-webllm-"));
  const srv = await serveFolder(empty);
  const engine = new InferenceEngine({ backends: { "web-llm": createWebLlmBackend() } });
  try {
    await engine.registry.register({ id: "mlc-tiny", name: "mlc-tiny", source: { type: "local", backend: "web-llm", url: `${srv.url}mlc-tiny`, model_lib: `${srv.url}lib.wasm` } });
    await assert.rejects(engine.pull("mlc-tiny"), (e: unknown) => {
      assert.ok(e instanceof CarError, String(e));
      assert.equal(e.code, "not_found");
      assert.match(e.message, /cannot load model mlc-tiny/);
      assert.match(e.message, /mlc-chat-config\.json: HTTP 404/);
      return true;
    });
    assert.ok(srv.requests.includes("/mlc-tiny/resolve/main/mlc-chat-config.json"));
  } finally {
    await engine.close();
    await srv.close();
    await rm(empty, { recursive: true, force: true });
  }
});

test("web-llm: a source without model_lib or url is refused before anything is fetched", async () => {
  const engine = new InferenceEngine({ backends: { "web-llm": createWebLlmBackend() } });
  await engine.registry.register({ id: "a", name: "a", source: { type: "local", backend: "web-llm", url: "http://127.0.0.1:9/x" } });
  await assert.rejects(engine.pull("a"), /needs source\.model_lib/);
  await engine.registry.register({ id: "b", name: "b", source: { type: "local", backend: "web-llm", path: "/tmp/x", model_lib: "x.wasm" } });
  await assert.rejects(engine.pull("b"), /needs source\.url/);
});
