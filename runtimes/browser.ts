/**
 * `car-server/browser`: the runtime in a web page, no daemon needed. The core (Runtime, verify,
 * memgine, inference, …), the daemon client (`CarClient`), IndexedDB storage, the WebGPU and
 * web-llm backends, and `createBrowserRuntime` / `createBrowserInferenceEngine` to wire them.
 * Everything reachable from here uses web-standard APIs only (test/browser/bundle.test.ts checks).
 */
export * from "../src/index.ts";
export * from "../src/client/index.ts";
// Both the core and the client name this shape (`{call_id, request}`); the core's is the one exported.
export type { RunnerInvoke } from "../src/inference/runner.ts";
export { createIndexedDbStorage, createIndexedDbAppendLog, type IndexedDbStorageOptions, type IndexedDbAppendLogOptions } from "../adapters/storage/indexeddb.ts";
export { createMemoryStorage, createMemoryAppendLog } from "../adapters/storage/memory.ts";
export { createWebGpuBackend, DEFAULT_MAX_CONTEXT, DEFAULT_PREFILL_CHUNK, type WebGpuBackendOptions } from "../adapters/inference/webgpu/backend.ts";
export { httpModelFiles, type ModelFiles } from "../adapters/inference/webgpu/model-files.ts";
export { createWebLlmBackend, type WebLlmBackendOptions } from "../adapters/inference/web-llm.ts";
export { createBrowserRuntime, JOURNAL_DB_SUFFIX, type BrowserRuntime, type BrowserRuntimeOptions } from "./browser-runtime.ts";
export { createBrowserInferenceEngine, type BrowserInferenceOptions } from "./browser-inference.ts";
