/**
 * Inference speed: prefill and decode tokens/s of the WebGPU backend and of the float64 CPU
 * reference on the same model, and GFLOP/s of the WGSL matmul kernel against a plain JS loop.
 *
 *   node --import tsx bench/inference.ts [MODEL_DIR] [--prompt N] [--decode N] [--matmul N]
 *
 * Without MODEL_DIR a tiny random Llama (hidden 256, 4 layers) is built in a temp folder.
 * Reads .webgpu-env (written by scripts/setup-webgpu.sh) for the Vulkan driver settings.
 */
/// <reference types="@webgpu/types" />
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SeededRandom } from "../src/engine/random.ts";
import { installWebGpu } from "../runtimes/webgpu-node.ts";
import { loadWebGpuModel, requestDevice } from "../adapters/inference/webgpu/backend.ts";
import { fsModelFiles } from "../adapters/inference/fs-model-files.ts";
import { parseSafetensors, toFloat32 } from "../adapters/inference/webgpu/safetensors.ts";
import { parseConfig } from "../adapters/inference/webgpu/config.ts";
import { matmul } from "../adapters/inference/webgpu/kernels.ts";
import { writeTinyModel, type TinyModel } from "../test/inference/tiny-model.ts";
import { ReferenceLlama } from "../test/inference/reference-llama.ts";

if (existsSync(".webgpu-env")) {
  for (const line of readFileSync(".webgpu-env", "utf8").split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m && m[1] !== "LD_LIBRARY_PATH" && process.env[m[1]!] === undefined) process.env[m[1]!] = m[2]!;
  }
}

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const dirArg = args.find((a, i) => !a.startsWith("--") && !args[i - 1]?.startsWith("--"));
const PROMPT = opt("prompt", 64);
const DECODE = opt("decode", 32);
const MM = opt("matmul", 512);

const gpu = await installWebGpu();
if (!gpu || !(await gpu.requestAdapter())) {
  console.log("no WebGPU adapter: run scripts/setup-webgpu.sh (Linux without a GPU) — nothing measured");
  process.exit(0);
}

let tmp: string | undefined;
let dir = dirArg;
if (!dir) {
  tmp = await mkdtemp(join(tmpdir(), "car-bench-"));
  dir = join(tmp, "tiny");
  await writeTinyModel(dir, { hidden: 256, layers: 4, heads: 8, kvHeads: 4, intermediate: 688, maxPositions: 512 });
}
const ms = () => performance.now();

// ---- WebGPU backend ----
const model = await loadWebGpuModel(fsModelFiles(dir), { gpu, maxContext: PROMPT + DECODE + 8 });
const r = new SeededRandom(1);
const vocab = model.info.vocabSize;
const prompt = Array.from({ length: PROMPT }, () => Math.floor(r.next() * Math.min(vocab, 250)));
await model.logits(prompt.slice(0, 4)); // warm-up: pipelines, first submit
const stamps: number[] = [];
const t0 = ms();
const gen = await model.generateIds(prompt, { maxTokens: DECODE, temperature: 0, topK: 0, topP: 1, random: r }, () => {}, undefined, () => stamps.push(ms()));
const gpuPrefill = PROMPT / ((stamps[0]! - t0) / 1000);
const gpuDecode = stamps.length > 1 ? (stamps.length - 1) / ((stamps.at(-1)! - stamps[0]!) / 1000) : NaN;
if (gen.outputTokens < 1) throw new Error("no token generated");

// ---- CPU reference (float64, recomputes the whole sequence per token: no KV cache) ----
const cfgRaw = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
const { dims, config } = parseConfig(cfgRaw);
const tensors: Record<string, Float32Array> = {};
for (const [k, v] of parseSafetensors(new Uint8Array(readFileSync(join(dir, "model.safetensors"))))) tensors[k] = toFloat32(v);
const tm: TinyModel = { dir, tensors, eosId: -1, config: { ...dims, headDim: dims.headDim, eps: dims.eps, ropeTheta: config.rope_theta } };
const ref = new ReferenceLlama(tm);
const cpuPrompt = prompt.slice(0, Math.min(PROMPT, 32));
let t = ms();
ref.forward(cpuPrompt);
const cpuPrefill = cpuPrompt.length / ((ms() - t) / 1000);
const cpuSteps = Math.min(4, DECODE);
const seq = [...cpuPrompt];
t = ms();
for (let i = 0; i < cpuSteps; i++) seq.push(ref.greedy(seq, 1, -1)[0]!);
const cpuDecode = cpuSteps / ((ms() - t) / 1000);
await model.dispose();

// ---- matmul kernel vs a plain JS loop: Y[T,N] = X[T,K]·W[N,K]ᵀ, T = N = K = MM ----
const { device } = await requestDevice(gpu);
const n = MM;
const X = Float32Array.from({ length: n * n }, () => r.next() - 0.5);
const W = Float32Array.from({ length: n * n }, () => r.next() - 0.5);
const buf = (data: ArrayBufferView | number, usage: number) => {
  const size = typeof data === "number" ? data : data.byteLength;
  const b = device.createBuffer({ size, usage });
  if (typeof data !== "number") device.queue.writeBuffer(b, 0, data as BufferSource);
  return b;
};
const xb = buf(X, 0x88), wb = buf(W, 0x88), bb = buf(new Float32Array(n), 0x88), yb = buf(n * n * 4, 0x84);
const dimsU = buf(new Uint32Array([n, n, 0, 0]), 0x48), stepU = buf(new Uint32Array([n, 0, n, 0]), 0x48);
const pipe = await device.createComputePipelineAsync({ layout: "auto", compute: { module: device.createShaderModule({ code: matmul() }), entryPoint: "main" } });
const group = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [xb, wb, bb, yb, dimsU, stepU].map((buffer, binding) => ({ binding, resource: { buffer } })) });
const runKernel = async (reps: number) => {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, group);
  for (let i = 0; i < reps; i++) pass.dispatchWorkgroups(Math.ceil(n / 32), Math.ceil(n / 32));
  pass.end();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
};
await runKernel(1);
const reps = 5;
t = ms();
await runKernel(reps);
const gpuGflops = (2 * n * n * n * reps) / ((ms() - t) / 1000) / 1e9;
const read = buf(n * 4, 0x09);
const enc = device.createCommandEncoder();
enc.copyBufferToBuffer(yb, 0, read, 0, n * 4);
device.queue.submit([enc.finish()]);
await read.mapAsync(1);
const y0 = new Float32Array(read.getMappedRange().slice(0));
t = ms();
const Y = new Float32Array(n * n);
for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
  let s = 0;
  for (let k = 0; k < n; k++) s += X[i * n + k]! * W[j * n + k]!;
  Y[i * n + j] = s;
}
const jsGflops = (2 * n * n * n) / ((ms() - t) / 1000) / 1e9;
let maxErr = 0;
for (let j = 0; j < n; j++) maxErr = Math.max(maxErr, Math.abs(y0[j]! - Y[j]!));
if (maxErr > 1e-3) throw new Error(`matmul kernel disagrees with the JS loop: ${maxErr}`);
device.destroy();

const info = (await gpu.requestAdapter())!.info;
const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
console.log(`adapter: ${info.vendor || "?"} ${info.architecture || ""} ${info.description || ""}`.trim());
console.log(`model: ${dir}${tmp ? " (tiny random)" : ""} — hidden ${dims.hidden}, ${dims.layers} layers, vocab ${dims.vocab}, ${(model.info.paramCount / 1e6).toFixed(2)} M params`);
console.log(`prefill tok/s  webgpu ${f(gpuPrefill)} (${PROMPT} tokens)   cpu-ref ${f(cpuPrefill)} (${cpuPrompt.length} tokens)   ratio ${f(gpuPrefill / cpuPrefill)}×`);
console.log(`decode  tok/s  webgpu ${f(gpuDecode)} (${stamps.length} tokens)   cpu-ref ${f(cpuDecode)} (${cpuSteps} tokens, recompute)   ratio ${f(gpuDecode / cpuDecode)}×`);
console.log(`matmul ${n}³ GFLOP/s  webgpu kernel ${gpuGflops.toFixed(2)}   js loop ${jsGflops.toFixed(2)}   ratio ${(gpuGflops / jsGflops).toFixed(1)}×   (max |Δ| ${maxErr.toExponential(1)})`);
if (tmp) await rm(tmp, { recursive: true, force: true });
