/** A loaded WebGPU model behind the engine's LoadedModel interface: generate, embed, score, tokenize. */
/// <reference types="@webgpu/types" />
import { CanceledError, CarError } from "../../../src/errors.ts";
import { reasonOf } from "../../../src/engine/clock.ts";
import type { BackendGenerateRequest, BackendGenerateResult, LoadedModel, LoadedModelInfo } from "../../../src/inference/backend.ts";
import type { StopReason } from "../../../src/inference/schemas.ts";
import type { GpuLlama, SampleParams } from "./gpu-llama.ts";
import { TextStream, type ModelTokenizer } from "./tokenizer.ts";

const C = "inference:webgpu";

export class WebGpuModel implements LoadedModel {
  private queue: Promise<unknown> = Promise.resolve();
  /** Forward passes run so far (tests use it to check that an abort stops promptly). */
  forwardPasses = 0;

  constructor(readonly gpu: GpuLlama, private readonly device: GPUDevice, readonly tokenizer: ModelTokenizer, readonly info: LoadedModelInfo) {}

  generate(req: BackendGenerateRequest, onText: (delta: string) => boolean | void, signal?: AbortSignal): Promise<BackendGenerateResult> {
    return this.exclusive(async () => {
      const prompt = this.tokenizer.chatIds(req.messages);
      return await this.generateIds(prompt, req, onText, signal);
    });
  }

  /** Generation from token ids (the prompt format already applied). */
  async generateIds(prompt: number[], req: Omit<BackendGenerateRequest, "messages">, onText: (delta: string) => boolean | void, signal?: AbortSignal, onToken?: (id: number) => void): Promise<BackendGenerateResult> {
    const ctx = this.gpu.options.maxContext;
    if (prompt.length === 0) throw new CarError("invalid_input", C, "empty prompt");
    if (prompt.length >= ctx) throw new CarError("invalid_input", C, `prompt of ${prompt.length} tokens leaves no room in maxContext ${ctx}`);
    const maxTokens = Math.min(req.maxTokens, ctx - prompt.length);
    const draw = (): SampleParams => ({ temperature: req.temperature, topK: req.topK, topP: req.topP, u: req.random.next() });
    let token = await this.prefill(prompt, signal, draw());
    const stream = new TextStream(this.tokenizer);
    let text = "";
    let out = 0;
    let stopReason: StopReason = "max_tokens";
    for (;;) {
      if (this.tokenizer.stopIds.has(token)) {
        stopReason = "end_turn";
        break;
      }
      out++;
      onToken?.(token);
      const delta = stream.push(token);
      text += delta;
      if (delta && onText(delta) === false) {
        stopReason = "stop_sequence";
        break;
      }
      if (out >= maxTokens) break;
      this.check(signal);
      token = (await this.run([token], prompt.length + out - 1, { sample: draw() })).token!;
    }
    const rest = stream.flush();
    if (rest && stopReason !== "stop_sequence") {
      text += rest;
      onText(rest);
    }
    return { text, stopReason, inputTokens: prompt.length, outputTokens: out };
  }

  embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    return this.exclusive(async () => {
      const out: number[][] = [];
      for (const text of texts) {
        const ids = this.tokenizer.encode(text, true);
        if (ids.length === 0) throw new CarError("invalid_input", C, "cannot embed an empty text");
        if (ids.length > this.gpu.options.maxContext) throw new CarError("invalid_input", C, `text of ${ids.length} tokens exceeds maxContext ${this.gpu.options.maxContext}`);
        const H = this.gpu.dims.hidden;
        const sum = new Float64Array(H);
        await this.chunks(ids, 0, signal, async (chunk, pos) => {
          const { hidden } = await this.run(chunk, pos, { hidden: true });
          for (let i = 0; i < hidden!.length; i++) sum[i % H] = sum[i % H]! + hidden![i]!;
        });
        let norm = 0;
        for (let i = 0; i < H; i++) norm += (sum[i]! / ids.length) ** 2;
        norm = Math.sqrt(norm) || 1;
        out.push(Array.from(sum, (s) => s / ids.length / norm));
      }
      return out;
    });
  }

  scoreContinuations(prompt: string, continuations: string[], signal?: AbortSignal): Promise<Array<{ logprob: number; tokens: number }>> {
    return this.exclusive(async () => {
      const p = this.tokenizer.encode(prompt, true);
      if (p.length === 0) throw new CarError("invalid_input", C, "empty prompt");
      let last: Float32Array | undefined;
      await this.chunks(p, 0, signal, async (chunk, pos) => {
        const { logits } = await this.run(chunk, pos, { logits: true });
        last = logits!.subarray((chunk.length - 1) * this.gpu.dims.vocab);
      });
      const results: Array<{ logprob: number; tokens: number }> = [];
      for (const cont of continuations) {
        const c = this.tokenizer.encode(cont, false);
        if (p.length + c.length > this.gpu.options.maxContext) throw new CarError("invalid_input", C, `prompt and continuation exceed maxContext ${this.gpu.options.maxContext}`);
        let lp = c.length ? logSoftmaxAt(last!, c[0]!) : 0;
        // The prompt's KV cache stays; each continuation overwrites the positions after it.
        await this.chunks(c.slice(0, -1), p.length, signal, async (chunk, pos) => {
          const { logits } = await this.run(chunk, pos, { logits: true });
          const V = this.gpu.dims.vocab;
          for (let i = 0; i < chunk.length; i++) lp += logSoftmaxAt(logits!.subarray(i * V, (i + 1) * V), c[pos - p.length + i + 1]!);
        });
        results.push({ logprob: lp, tokens: c.length });
      }
      return results;
    });
  }

  tokenize(text: string): number[] {
    return this.tokenizer.encode(text, false);
  }

  detokenize(ids: number[]): string {
    return this.tokenizer.decode(ids);
  }

  /** Next-token logits after `ids` (a fresh sequence): for tests and benchmarks. */
  logits(ids: number[], signal?: AbortSignal): Promise<Float32Array> {
    return this.exclusive(async () => {
      let last: Float32Array | undefined;
      await this.chunks(ids, 0, signal, async (chunk, pos) => {
        const { logits } = await this.run(chunk, pos, { logits: true });
        last = logits!.slice((chunk.length - 1) * this.gpu.dims.vocab);
      });
      return last!;
    });
  }

  async dispose(): Promise<void> {
    await this.queue.catch(() => {});
    this.gpu.destroy();
    this.device.destroy();
  }

  private async prefill(ids: number[], signal: AbortSignal | undefined, sample: SampleParams): Promise<number> {
    let token = -1;
    await this.chunks(ids, 0, signal, async (part, pos) => {
      const isLast = pos + part.length === ids.length;
      const r = await this.run(part, pos, isLast ? { sample } : {});
      if (isLast) token = r.token!;
    });
    return token;
  }

  private async chunks(ids: number[], pos0: number, signal: AbortSignal | undefined, fn: (chunk: number[], pos: number) => Promise<void>): Promise<void> {
    const n = this.gpu.options.prefillChunk;
    for (let i = 0; i < ids.length; i += n) {
      this.check(signal);
      await fn(ids.slice(i, i + n), pos0 + i);
    }
  }

  private run(ids: number[], pos: number, want: Parameters<GpuLlama["forward"]>[2]) {
    this.forwardPasses++;
    return this.gpu.forward(ids, pos, want);
  }

  private check(signal?: AbortSignal): void {
    if (signal?.aborted) throw new CanceledError(C, reasonOf(signal));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }
}

/** log softmax(logits)[id], computed stably in f64. */
export function logSoftmaxAt(logits: Float32Array, id: number): number {
  let m = -Infinity;
  for (const x of logits) if (x > m) m = x;
  let s = 0;
  for (const x of logits) s += Math.exp(x - m);
  return logits[id]! - m - Math.log(s);
}
