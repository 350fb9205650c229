/**
 * The inference engine in a web page: our WebGPU backend and web-llm, both on `navigator.gpu`.
 * Models load from URLs (a page has no file system); registrations persist in the Storage given.
 */
import { createWebLlmBackend, type WebLlmBackendOptions } from "../adapters/inference/web-llm.ts";
import { createWebGpuBackend, type WebGpuBackendOptions } from "../adapters/inference/webgpu/backend.ts";
import type { Clock } from "../src/engine/clock.ts";
import type { Random } from "../src/engine/random.ts";
import type { InferenceBackend } from "../src/inference/backend.ts";
import { InferenceEngine } from "../src/inference/engine.ts";
import type { InferenceSettingsInput } from "../src/inference/settings.ts";
import type { Storage } from "../src/storage/storage.ts";

/** Options of `createBrowserInferenceEngine`. */
export interface BrowserInferenceOptions {
  /** Where registered models persist (e.g. `BrowserRuntime.storage`); none = this page only. */
  storage?: Storage;
  /** Engine limits (see docs/inference.md, "Limits"). */
  settings?: InferenceSettingsInput;
  /** The WebGPU backend's settings; `gpu` defaults to `navigator.gpu`. Local paths cannot load in a page. */
  webgpu?: Omit<WebGpuBackendOptions, "openPath">;
  /** web-llm's settings (its cache: the Cache API by default, or IndexedDB), or `false` to leave web-llm out. */
  webLlm?: WebLlmBackendOptions | false;
  /** Extra backends by name. */
  backends?: Record<string, InferenceBackend>;
  clock?: Clock;
  random?: Random;
}

/**
 * Creates the engine with backends `webgpu` and `web-llm` and restores the registry from
 * `storage`. Nothing touches the GPU until a model loads; without a usable adapter that load fails
 * with `unsupported` ("no WebGPU adapter found" / "WebGPU is not available here").
 */
export async function createBrowserInferenceEngine(options: BrowserInferenceOptions = {}): Promise<InferenceEngine> {
  const backends: Record<string, InferenceBackend> = { webgpu: createWebGpuBackend({ ...options.webgpu }) };
  if (options.webLlm !== false) backends["web-llm"] = createWebLlmBackend({ ...options.webLlm });
  const engine = new InferenceEngine({
    backends: { ...backends, ...options.backends },
    ...(options.storage ? { storage: options.storage } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  await engine.init();
  return engine;
}
