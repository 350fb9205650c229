/**
 * The daemon's inference engine: the WebGPU and web-llm backends, settings from the environment,
 * the model registry in the daemon's storage, and the `--model` folders.
 */
import { statSync } from "node:fs";
import { totalmem } from "node:os";
import { basename } from "node:path";
import process from "node:process";
import { createWebGpuBackend } from "../adapters/inference/webgpu/backend.ts";
import { createWebLlmBackend } from "../adapters/inference/web-llm.ts";
import { fsModelFiles } from "../adapters/inference/fs-model-files.ts";
import type { InferenceBackend } from "../src/inference/backend.ts";
import { InferenceEngine } from "../src/inference/engine.ts";
import type { ModelSchemaInput } from "../src/inference/model-schemas.ts";
import { inferenceSettingsFromEnv } from "../src/inference/settings.ts";
import type { Storage } from "../src/storage/storage.ts";
import { installWebGpu } from "./webgpu-node.ts";

/** Capabilities of a `--model` folder: the WebGPU backend does all four. */
const LOCAL_CAPABILITIES = ["generate", "embed", "classify", "rerank"] as const;

/**
 * Installs `navigator.gpu` (Node, Bun; Deno has it) the first time a model loads, not at start:
 * a daemon on a machine without a GPU adapter still starts, and only inference calls fail
 * (`unsupported`: "WebGPU is not available here" / "no WebGPU adapter found").
 */
function lazyGpu(backend: InferenceBackend): InferenceBackend {
  return {
    name: backend.name,
    async load(spec, options) {
      await installWebGpu();
      return backend.load(spec, options);
    },
  };
}

/** The registry entry for one `--model` argument: a local folder, or an http(s) URL of one. */
export function modelFromArg(arg: string): ModelSchemaInput {
  const isUrl = /^https?:\/\//i.test(arg);
  const id = basename(isUrl ? new URL(arg).pathname.replace(/\/+$/, "") : arg) || "model";
  if (!isUrl) {
    let isDir = false;
    try {
      isDir = statSync(arg).isDirectory();
    } catch {
      throw new Error(`--model ${arg}: no such directory`);
    }
    if (!isDir) throw new Error(`--model ${arg}: not a directory (give a Hugging Face model folder with config.json, tokenizer.json, model.safetensors)`);
    try {
      statSync(`${arg}/config.json`);
    } catch {
      throw new Error(`--model ${arg}: no config.json in the folder (give a Hugging Face model folder)`);
    }
  }
  return { id, name: id, capabilities: [...LOCAL_CAPABILITIES], source: isUrl ? { type: "local", url: arg } : { type: "local", path: arg } };
}

/**
 * Builds and initialises the engine: registrations persisted in `storage` are restored, then each
 * `--model` is registered for this run only (not persisted). Two `--model`s with the same folder
 * name are refused.
 */
export async function openInferenceEngine(storage: Storage, models: string[] = []): Promise<InferenceEngine> {
  const specs = models.map(modelFromArg);
  const ids = new Set<string>();
  for (const s of specs) {
    if (ids.has(s.id)) throw new Error(`--model: two models named '${s.id}' (folder names must differ)`);
    ids.add(s.id);
  }
  const engine = new InferenceEngine({
    backends: { webgpu: lazyGpu(createWebGpuBackend({ openPath: fsModelFiles })), "web-llm": lazyGpu(createWebLlmBackend()) },
    storage,
    settings: inferenceSettingsFromEnv(process.env, totalmem()),
  });
  await engine.init();
  for (const s of specs) await engine.registry.register(s, { persist: false });
  return engine;
}
