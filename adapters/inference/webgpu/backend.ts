/**
 * Our WebGPU backend: Llama-architecture models from a Hugging Face folder (local path or URL),
 * forward pass in WGSL (gpu-llama.ts). The only platform thing it touches is `navigator.gpu`
 * (or the GPU passed in) and the ModelFiles reader for local paths.
 */
/// <reference types="@webgpu/types" />
import { CarError } from "../../../src/errors.ts";
import type { InferenceBackend, LoadOptions } from "../../../src/inference/backend.ts";
import type { ModelSchema } from "../../../src/inference/model-schemas.ts";
import { parseConfig, ropeInvFreq } from "./config.ts";
import { GpuLlama } from "./gpu-llama.ts";
import { httpModelFiles, readJson, readOptionalJson, type ModelFiles } from "./model-files.ts";
import { ModelTokenizer } from "./tokenizer.ts";
import { WebGpuModel } from "./webgpu-model.ts";
import { llamaWeights, readTensors } from "./weights.ts";

const C = "inference:webgpu";

export interface WebGpuBackendOptions {
  /** The WebGPU entry point; default `navigator.gpu`. */
  gpu?: GPU;
  /** Opens a local model folder (runtimes pass `fsModelFiles`); without it only URLs load. */
  openPath?: (path: string) => ModelFiles;
  /** Used for URL sources; default the global fetch. */
  fetch?: typeof fetch;
  /** KV-cache length in tokens (prompt + output), capped by the model's max_position_embeddings. Default 2048. */
  maxContext?: number;
  /** Prompt tokens per forward pass; bounds activation memory. Default 64. */
  prefillChunk?: number;
  /** Adapter preference passed to requestAdapter. */
  powerPreference?: GPUPowerPreference;
}

/** Default KV-cache length. */
export const DEFAULT_MAX_CONTEXT = 2048;
/** Default prefill chunk. */
export const DEFAULT_PREFILL_CHUNK = 64;

/** The GPU from options or `navigator.gpu`, or a clear error. */
export function gpuOf(gpu?: GPU): GPU {
  const g = gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!g) throw new CarError("unsupported", C, "WebGPU is not available here (no navigator.gpu); on Node and Bun import runtimes/webgpu-node.ts first");
  return g;
}

/** Requests an adapter and a device with the adapter's largest buffer limits. */
export async function requestDevice(gpu: GPU, powerPreference?: GPUPowerPreference): Promise<{ adapter: GPUAdapter; device: GPUDevice }> {
  const adapter = await gpu.requestAdapter(powerPreference ? { powerPreference } : {});
  if (!adapter) {
    throw new CarError("unsupported", C, "no WebGPU adapter found (no usable GPU or Vulkan driver; on Linux without a GPU, scripts/setup-webgpu.sh installs Mesa's lavapipe)");
  }
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  return { adapter, device };
}

/** Creates the backend (name `webgpu`). */
export function createWebGpuBackend(options: WebGpuBackendOptions = {}): InferenceBackend {
  return {
    name: "webgpu",
    async load(spec: ModelSchema, opts: LoadOptions = {}) {
      if (spec.source.type !== "local") throw new CarError("unsupported", C, `model ${spec.id}: the webgpu backend loads local folders and URLs only`);
      const { signal, onProgress } = opts;
      const src = spec.source;
      let files: ModelFiles;
      if (src.url) files = httpModelFiles(src.url, options.fetch ?? fetch);
      else if (options.openPath) files = options.openPath(src.path!);
      else throw new CarError("unsupported", C, `model ${spec.id}: local paths need a file reader (pass openPath, e.g. fsModelFiles)`);
      return await loadWebGpuModel(files, options, signal, onProgress);
    },
  };
}

/** Loads a model folder onto the GPU. */
export async function loadWebGpuModel(files: ModelFiles, options: WebGpuBackendOptions = {}, signal?: AbortSignal, onProgress?: LoadOptions["onProgress"]): Promise<WebGpuModel> {
  onProgress?.({ phase: "config", loadedBytes: 0, totalBytes: null });
  const { config, dims } = parseConfig(await readJson(files, "config.json", signal));
  const gen = (await readOptionalJson(files, "generation_config.json", signal)) as { eos_token_id?: number | number[] } | undefined;
  onProgress?.({ phase: "tokenizer", loadedBytes: 0, totalBytes: null });
  const tokJson = await readJson(files, "tokenizer.json", signal);
  const tokCfg = await readOptionalJson(files, "tokenizer_config.json", signal);
  const eos = [config.eos_token_id, gen?.eos_token_id].flat().filter((x): x is number => typeof x === "number");
  const tokenizer = new ModelTokenizer(tokJson, tokCfg, eos);
  const { tensors, bytes } = await readTensors(files, signal, onProgress);
  const weights = llamaWeights(tensors, dims, config.tie_word_embeddings);
  tensors.clear();
  onProgress?.({ phase: "upload", loadedBytes: bytes, totalBytes: bytes });
  const maxContext = Math.min(options.maxContext ?? DEFAULT_MAX_CONTEXT, config.max_position_embeddings);
  const prefillChunk = Math.max(1, Math.min(options.prefillChunk ?? DEFAULT_PREFILL_CHUNK, maxContext));
  const { device } = await requestDevice(gpuOf(options.gpu), options.powerPreference);
  let gpu: GpuLlama;
  try {
    gpu = await GpuLlama.create(device, dims, { maxContext, prefillChunk }, weights, ropeInvFreq(config, dims.headDim));
  } catch (err) {
    device.destroy();
    throw err;
  }
  const paramCount = weights.embed.length + (weights.lmHead?.length ?? 0) + weights.finalNorm.length +
    weights.layers.reduce((s, L) => s + Object.values(L).reduce((a, t) => a + (t?.length ?? 0), 0), 0);
  return new WebGpuModel(gpu, device, tokenizer, {
    family: config.model_type,
    contextLength: maxContext,
    vocabSize: dims.vocab,
    paramCount,
    sizeBytes: bytes,
  });
}
