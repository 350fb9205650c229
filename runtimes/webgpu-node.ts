/**
 * Gives Node and Bun a `navigator.gpu` through the `webgpu` package (Google's Dawn). Browsers and
 * Deno have one built in; there this does nothing. The core only ever sees `navigator.gpu`.
 */
/// <reference types="@webgpu/types" />
/** Options passed to Dawn's `create` (e.g. `["backend=vulkan"]`). */
export type DawnFlags = string[];

let installed: GPU | undefined;

/**
 * Installs `navigator.gpu` (and the WebGPU globals such as GPUBufferUsage) if the runtime lacks
 * them. Returns the GPU object, or undefined when the `webgpu` package cannot load here.
 */
export async function installWebGpu(flags: DawnFlags = []): Promise<GPU | undefined> {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator?.gpu) return g.navigator.gpu;
  if (installed) return installed;
  let mod: { create(flags: string[]): GPU; globals: Record<string, unknown> };
  try {
    mod = (await import("webgpu")) as unknown as typeof mod;
  } catch {
    return undefined;
  }
  Object.assign(globalThis, mod.globals);
  installed = mod.create(flags);
  if (!g.navigator) Object.defineProperty(globalThis, "navigator", { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator!, "gpu", { value: installed, configurable: true });
  return installed;
}
