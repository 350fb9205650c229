/**
 * A Llama-architecture model resident on a GPUDevice: weights, KV cache, activations, pipelines and
 * bind groups are created once at load; a forward pass only writes the token ids and a 16-byte step
 * uniform, encodes one compute pass, and reads back what was asked for.
 */
/// <reference types="@webgpu/types" />
import { CarError } from "../../../src/errors.ts";
import type { ModelDims } from "./config.ts";
import { WG, attnScores, attnSoftmax, attnValues, embedGather, kvWrite, matmul, rmsNorm, rope, siluMul } from "./kernels.ts";
import { sampleKernel } from "./sample-kernel.ts";

// GPUBufferUsage / GPUMapMode values, spelled out so this module loads where WebGPU is absent.
const S = 0x80;
const U = 0x40;
const CD = 0x08;
const CS = 0x04;
const MAP_READ = 0x01;

/** Host-side weights, already f32. Linear weights are [out, in] as in Hugging Face checkpoints. */
export interface LlamaWeights {
  embed: Float32Array;
  lmHead: Float32Array | null; // null = tied to embed
  finalNorm: Float32Array;
  layers: Array<{
    ln1: Float32Array; ln2: Float32Array;
    q: Float32Array; k: Float32Array; v: Float32Array; o: Float32Array;
    qb?: Float32Array; kb?: Float32Array; vb?: Float32Array; ob?: Float32Array;
    gate: Float32Array; up: Float32Array; down: Float32Array;
  }>;
}

export interface GpuLlamaOptions {
  /** KV-cache length: longest prompt + generation. */
  maxContext: number;
  /** Tokens per forward pass while reading a prompt (bounds activation memory). */
  prefillChunk: number;
}

/** Sampling parameters of one next-token draw (temperature 0 = argmax). */
export interface SampleParams {
  temperature: number;
  topK: number;
  topP: number;
  u: number;
}

type Linear = { w: GPUBuffer; b: GPUBuffer; n: number; k: number };

export class GpuLlama {
  private readonly pipes = new Map<string, GPUComputePipeline>();
  private readonly dimsUniforms = new Map<string, GPUBuffer>();
  private readonly owned: GPUBuffer[] = [];
  private readonly stepU: GPUBuffer;
  private readonly sampleU: GPUBuffer;
  private readonly ids: GPUBuffer;
  private readonly b: Record<"x" | "xn" | "q" | "k" | "v" | "att" | "o" | "g" | "u" | "logits" | "result", GPUBuffer>;
  private logitsAll: GPUBuffer | undefined;
  private readonly kc: GPUBuffer[] = [];
  private readonly vc: GPUBuffer[] = [];
  private readonly zeros: GPUBuffer;
  private readonly cosSin: GPUBuffer;
  private readonly weights: { embed: GPUBuffer; lm: Linear; finalNorm: GPUBuffer; layers: Array<Record<"ln1" | "ln2", GPUBuffer> & Record<"q" | "k" | "v" | "o" | "gate" | "up" | "down", Linear>> };
  private lost: string | undefined;

  private constructor(private readonly device: GPUDevice, readonly dims: ModelDims, readonly options: GpuLlamaOptions, w: LlamaWeights, cosSin: Float32Array) {
    const d = dims;
    const C = options.prefillChunk;
    const f32 = (n: number, usage = S | CD | CS) => this.buffer(n * 4, usage);
    void device.lost.then((info) => { this.lost = info.message || info.reason; });
    this.stepU = this.buffer(16, U | CD);
    this.sampleU = this.buffer(16, U | CD);
    this.ids = this.buffer(C * 4, S | CD);
    this.b = {
      x: f32(C * d.hidden), xn: f32(C * d.hidden), q: f32(C * d.heads * d.headDim), k: f32(C * d.kvHeads * d.headDim), v: f32(C * d.kvHeads * d.headDim),
      att: f32(C * d.heads * options.maxContext), o: f32(C * d.heads * d.headDim), g: f32(C * d.intermediate), u: f32(C * d.intermediate),
      logits: f32(d.vocab), result: this.buffer(4, S | CS),
    };
    this.zeros = f32(Math.max(d.vocab, d.intermediate, d.hidden, d.heads * d.headDim));
    this.cosSin = this.upload(cosSin);
    for (let l = 0; l < d.layers; l++) {
      this.kc.push(f32(options.maxContext * d.kvHeads * d.headDim));
      this.vc.push(f32(options.maxContext * d.kvHeads * d.headDim));
    }
    const lin = (wt: Float32Array, n: number, k: number, bias?: Float32Array): Linear => {
      if (wt.length !== n * k) throw new CarError("invalid_input", "inference:webgpu", `weight of ${wt.length} values, expected ${n}×${k}`);
      return { w: this.upload(wt), b: bias ? this.upload(bias) : this.zeros, n, k };
    };
    const embed = this.upload(w.embed);
    const qd = d.heads * d.headDim, kvd = d.kvHeads * d.headDim;
    this.weights = {
      embed,
      lm: w.lmHead ? lin(w.lmHead, d.vocab, d.hidden) : { w: embed, b: this.zeros, n: d.vocab, k: d.hidden },
      finalNorm: this.upload(w.finalNorm),
      layers: w.layers.map((L) => ({
        ln1: this.upload(L.ln1), ln2: this.upload(L.ln2),
        q: lin(L.q, qd, d.hidden, L.qb), k: lin(L.k, kvd, d.hidden, L.kb), v: lin(L.v, kvd, d.hidden, L.vb), o: lin(L.o, d.hidden, qd, L.ob),
        gate: lin(L.gate, d.intermediate, d.hidden), up: lin(L.up, d.intermediate, d.hidden), down: lin(L.down, d.hidden, d.intermediate),
      })),
    };
  }

  /** Uploads the weights and compiles the kernels. */
  static async create(device: GPUDevice, dims: ModelDims, options: GpuLlamaOptions, weights: LlamaWeights, invFreq: Float64Array): Promise<GpuLlama> {
    const half = dims.headDim / 2;
    const cs = new Float32Array(options.maxContext * half * 2);
    for (let p = 0; p < options.maxContext; p++) {
      for (let j = 0; j < half; j++) {
        cs[(p * half + j) * 2] = Math.cos(p * invFreq[j]!);
        cs[(p * half + j) * 2 + 1] = Math.sin(p * invFreq[j]!);
      }
    }
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    const m = new GpuLlama(device, dims, options, weights, cs);
    const kd = { hidden: dims.hidden, heads: dims.heads, kvHeads: dims.kvHeads, headDim: dims.headDim, eps: dims.eps };
    const sources: Record<string, string> = {
      embed: embedGather(kd), norm: rmsNorm(kd), matmul: matmul(), ropeQ: rope(kd, dims.heads), ropeK: rope(kd, dims.kvHeads),
      kv: kvWrite(kd), scores: attnScores(kd), softmax: attnSoftmax(kd), values: attnValues(kd), silu: siluMul(dims.intermediate), sample: sampleKernel(dims.vocab),
    };
    await Promise.all(Object.entries(sources).map(async ([name, code]) => {
      const module = device.createShaderModule({ code, label: name });
      try {
        m.pipes.set(name, await device.createComputePipelineAsync({ layout: "auto", compute: { module, entryPoint: "main" }, label: name }));
      } catch (err) {
        const info = await module.getCompilationInfo();
        const msgs = info.messages.map((x) => `${x.lineNum}:${x.linePos} ${x.message}`).join("; ");
        throw new CarError("internal", "inference:webgpu", `kernel ${name} failed to compile: ${msgs || (err as Error).message}`);
      }
    }));
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    const err = oom ?? validation;
    if (err) {
      m.destroy();
      throw new CarError(oom ? "overloaded" : "internal", "inference:webgpu", `loading the model on the GPU failed: ${err.message}`);
    }
    return m;
  }

  /**
   * Runs `ids` (at most `prefillChunk`) at positions pos0… through the model, filling the KV cache.
   * `sample` picks the next token from the last position; `logits` returns T×vocab; `hidden` T×hidden
   * (after the final norm).
   */
  async forward(ids: number[], pos0: number, want: { sample?: SampleParams; logits?: boolean; hidden?: boolean }): Promise<{ token?: number; logits?: Float32Array; hidden?: Float32Array }> {
    if (this.lost) throw new CarError("internal", "inference:webgpu", `GPU device lost: ${this.lost}`);
    const T = ids.length;
    const d = this.dims;
    if (T === 0 || T > this.options.prefillChunk) throw new CarError("internal", "inference:webgpu", `forward of ${T} tokens (chunk ${this.options.prefillChunk})`);
    if (pos0 + T > this.options.maxContext) throw new CarError("invalid_input", "inference:webgpu", `context of ${pos0 + T} tokens exceeds maxContext ${this.options.maxContext}`);
    for (const id of ids) if (!Number.isInteger(id) || id < 0 || id >= d.vocab) throw new CarError("invalid_input", "inference:webgpu", `token id ${id} outside the vocabulary (${d.vocab})`);
    const q = this.device.queue;
    q.writeBuffer(this.ids, 0, new Uint32Array(ids));
    q.writeBuffer(this.stepU, 0, new Uint32Array([T, pos0, pos0 + T, 0]));
    if (want.sample) {
      const s = want.sample;
      const buf = new ArrayBuffer(16);
      new Float32Array(buf, 0, 1)[0] = s.temperature;
      new Uint32Array(buf, 4, 1)[0] = s.topK;
      new Float32Array(buf, 8, 2).set([s.topP, s.u]);
      q.writeBuffer(this.sampleU, 0, buf);
    }
    if (want.logits && !this.logitsAll) this.logitsAll = this.buffer(this.options.prefillChunk * d.vocab * 4, S | CS);
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    const b = this.b;
    const S_ = pos0 + T;
    this.flat(pass, "embed", [this.ids, this.weights.embed, b.x, this.stepU], T * d.hidden);
    for (let l = 0; l < d.layers; l++) {
      const L = this.weights.layers[l]!;
      this.rows(pass, "norm", [b.x, L.ln1, b.xn, this.stepU], T);
      this.linear(pass, b.xn, L.q, b.q, T);
      this.linear(pass, b.xn, L.k, b.k, T);
      this.linear(pass, b.xn, L.v, b.v, T);
      this.flat(pass, "ropeQ", [b.q, this.cosSin, this.stepU], (T * d.heads * d.headDim) / 2);
      this.flat(pass, "ropeK", [b.k, this.cosSin, this.stepU], (T * d.kvHeads * d.headDim) / 2);
      this.flat(pass, "kv", [b.k, b.v, this.kc[l]!, this.vc[l]!, this.stepU], T * d.kvHeads * d.headDim);
      this.flat(pass, "scores", [b.q, this.kc[l]!, b.att, this.stepU], T * d.heads * S_);
      this.rows(pass, "softmax", [b.att, this.stepU], T * d.heads);
      this.flat(pass, "values", [b.att, this.vc[l]!, b.o, this.stepU], T * d.heads * d.headDim);
      this.linear(pass, b.o, L.o, b.x, T, { acc: true });
      this.rows(pass, "norm", [b.x, L.ln2, b.xn, this.stepU], T);
      this.linear(pass, b.xn, L.gate, b.g, T);
      this.linear(pass, b.xn, L.up, b.u, T);
      this.flat(pass, "silu", [b.g, b.u, this.stepU], T * d.intermediate);
      this.linear(pass, b.g, L.down, b.x, T, { acc: true });
    }
    this.rows(pass, "norm", [b.x, this.weights.finalNorm, b.xn, this.stepU], T);
    if (want.sample) {
      this.linear(pass, b.xn, this.weights.lm, b.logits, 1, { last: true });
      this.rows(pass, "sample", [b.logits, this.sampleU, b.result], 1);
    }
    if (want.logits) this.linear(pass, b.xn, this.weights.lm, this.logitsAll!, T);
    pass.end();
    const reads: Array<[GPUBuffer, number]> = [];
    if (want.sample) reads.push([b.result, 4]);
    if (want.logits) reads.push([this.logitsAll!, T * d.vocab * 4]);
    if (want.hidden) reads.push([b.xn, T * d.hidden * 4]);
    const staging = reads.map(([src, size]) => {
      const st = this.device.createBuffer({ size, usage: MAP_READ | CD });
      enc.copyBufferToBuffer(src, 0, st, 0, size);
      return st;
    });
    q.submit([enc.finish()]);
    const out: { token?: number; logits?: Float32Array; hidden?: Float32Array } = {};
    try {
      await Promise.all(staging.map((st) => st.mapAsync(MAP_READ)));
      let i = 0;
      if (want.sample) out.token = new Uint32Array(staging[i++]!.getMappedRange().slice(0))[0]!;
      if (want.logits) out.logits = new Float32Array(staging[i++]!.getMappedRange().slice(0));
      if (want.hidden) out.hidden = new Float32Array(staging[i++]!.getMappedRange().slice(0));
    } finally {
      for (const st of staging) st.destroy();
    }
    if (this.lost) throw new CarError("internal", "inference:webgpu", `GPU device lost: ${this.lost}`);
    return out;
  }

  /** Frees every GPU buffer of the model. */
  destroy(): void {
    for (const buf of this.owned) buf.destroy();
    this.owned.length = 0;
  }

  /** Bytes of GPU memory this model holds. */
  get gpuBytes(): number {
    return this.owned.reduce((s, x) => s + x.size, 0);
  }

  private buffer(size: number, usage: number): GPUBuffer {
    const max = this.device.limits.maxStorageBufferBindingSize;
    if (size > max && usage & S) throw new CarError("unsupported", "inference:webgpu", `a tensor of ${size} bytes exceeds this adapter's max storage binding of ${max} bytes`);
    const buf = this.device.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage });
    this.owned.push(buf);
    return buf;
  }

  private upload(data: Float32Array): GPUBuffer {
    const buf = this.buffer(data.byteLength, S | CD);
    this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  private bind(name: string, buffers: GPUBuffer[]): { pipe: GPUComputePipeline; group: GPUBindGroup } {
    const pipe = this.pipes.get(name)!;
    // Bind groups are cheap; creating them per dispatch keeps the code simple.
    const group = this.device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
    return { pipe, group };
  }

  private flat(pass: GPUComputePassEncoder, name: string, buffers: GPUBuffer[], threads: number): void {
    const { pipe, group } = this.bind(name, buffers);
    const groups = Math.ceil(threads / WG);
    const x = Math.min(groups, 65535);
    pass.setPipeline(pipe);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, Math.ceil(groups / x));
  }

  private rows(pass: GPUComputePassEncoder, name: string, buffers: GPUBuffer[], rows: number): void {
    const { pipe, group } = this.bind(name, buffers);
    pass.setPipeline(pipe);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.min(rows, 65535), Math.ceil(rows / 65535));
  }

  private linear(pass: GPUComputePassEncoder, x: GPUBuffer, lin: Linear, y: GPUBuffer, rows: number, opt: { acc?: boolean; last?: boolean } = {}): void {
    const key = `${lin.n}:${lin.k}:${opt.last ? 1 : 0}:${opt.acc ? 1 : 0}`;
    let dims = this.dimsUniforms.get(key);
    if (!dims) {
      dims = this.buffer(16, U | CD);
      this.device.queue.writeBuffer(dims, 0, new Uint32Array([lin.n, lin.k, opt.last ? 1 : 0, opt.acc ? 1 : 0]));
      this.dimsUniforms.set(key, dims);
    }
    const { pipe, group } = this.bind("matmul", [x, lin.w, lin.b, y, dims, this.stepU]);
    pass.setPipeline(pipe);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(lin.n / 32), Math.ceil(rows / 32));
  }
}
