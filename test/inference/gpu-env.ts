/** Finds a WebGPU adapter for the tests, or the reason to skip them. */
/// <reference types="@webgpu/types" />
import { installWebGpu } from "../../runtimes/webgpu-node.ts";

/** `{ gpu }` when an adapter exists; else `{ skip }` with why (printed by the test runner). */
export async function webgpuForTests(): Promise<{ gpu: GPU; skip?: undefined } | { gpu?: undefined; skip: string }> {
  const gpu = await installWebGpu();
  if (!gpu) return { skip: "no WebGPU: the webgpu package does not load on this platform" };
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { skip: "no WebGPU adapter (no GPU and no Mesa lavapipe ≥ 25: run scripts/setup-webgpu.sh, which writes .webgpu-env for the test runner)" };
  return { gpu };
}
