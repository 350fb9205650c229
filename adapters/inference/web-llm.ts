/**
 * @mlc-ai/web-llm behind the InferenceBackend interface (backend name `web-llm`), for
 * MLC-compiled models: `source.url` is the MLC model folder (mlc-chat-config.json,
 * tensor-cache.json, shards, tokenizer) and `source.model_lib` its compiled .wasm library.
 * web-llm is imported lazily, so nothing loads unless a web-llm model is used.
 */
import { CanceledError, CarError } from "../../src/errors.ts";
import { reasonOf } from "../../src/engine/clock.ts";
import type { BackendGenerateRequest, BackendGenerateResult, InferenceBackend, LoadOptions, LoadedModel } from "../../src/inference/backend.ts";
import type { ModelSchema } from "../../src/inference/model-schemas.ts";
import { installWebLlmShims } from "./web-llm-shims.ts";

const C = "inference:web-llm";

type WebLlm = typeof import("@mlc-ai/web-llm");
type Engine = Awaited<ReturnType<WebLlm["CreateMLCEngine"]>>;

export interface WebLlmBackendOptions {
  /** Where web-llm keeps fetched artifacts: its Cache API store (default) or IndexedDB. */
  cacheBackend?: "cache" | "indexeddb";
  /** Origin used for relative URLs where the runtime has no `location` (Node, Bun). */
  origin?: string;
}

/** Creates the backend. */
export function createWebLlmBackend(options: WebLlmBackendOptions = {}): InferenceBackend {
  return {
    name: "web-llm",
    async load(spec: ModelSchema, opts: LoadOptions = {}): Promise<LoadedModel> {
      const src = spec.source;
      if (src.type !== "local" || !src.url) throw new CarError("unsupported", C, `model ${spec.id}: web-llm needs source.url (an MLC model folder URL)`);
      if (!src.model_lib) throw new CarError("invalid_input", C, `model ${spec.id}: web-llm needs source.model_lib (the model's compiled .wasm URL)`);
      if (opts.signal?.aborted) throw new CanceledError(C, reasonOf(opts.signal));
      installWebLlmShims(options.origin);
      const webllm: WebLlm = await import("@mlc-ai/web-llm");
      const model = src.url.match(/\/resolve\/.+\//) ? src.url : src.url.endsWith("/") ? `${src.url}resolve/main/` : `${src.url}/resolve/main/`;
      let engine: Engine;
      try {
        engine = await webllm.CreateMLCEngine(spec.id, {
          appConfig: { model_list: [{ model, model_id: spec.id, model_lib: src.model_lib }], cacheBackend: options.cacheBackend ?? "cache" },
          initProgressCallback: (r: { progress: number }) => opts.onProgress?.({ phase: r.progress >= 1 ? "upload" : "weights", loadedBytes: Math.round(r.progress * 1e6), totalBytes: 1e6 }),
        });
      } catch (err) {
        const msg = (err as Error)?.message ?? String(err);
        const fetchFailed = /fetch|HTTP \d{3}|404|network/i.test(msg);
        throw new CarError(fetchFailed ? "not_found" : "unsupported", C, `cannot load model ${spec.id} from ${model}: ${msg}`, undefined, { cause: err });
      }
      return new WebLlmModel(engine, spec);
    },
  };
}

class WebLlmModel implements LoadedModel {
  readonly info;

  constructor(private readonly engine: Engine, spec: ModelSchema) {
    this.info = { family: spec.family, contextLength: spec.context_length, vocabSize: 0, paramCount: spec.param_count ?? 0, sizeBytes: (spec.size_mb ?? 0) * 2 ** 20 };
  }

  async generate(req: BackendGenerateRequest, onText: (d: string) => boolean | void, signal?: AbortSignal): Promise<BackendGenerateResult> {
    if (signal?.aborted) throw new CanceledError(C, reasonOf(signal));
    const onAbort = () => this.engine.interruptGenerate();
    signal?.addEventListener("abort", onAbort, { once: true });
    let text = "";
    let stopReason: BackendGenerateResult["stopReason"] = "end_turn";
    let usage = { prompt_tokens: 0, completion_tokens: 0 };
    try {
      const stream = await this.engine.chat.completions.create({
        messages: req.messages.map((m) => ({ role: m.role === "tool" ? "user" : m.role, content: m.content })) as never,
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: req.maxTokens,
        temperature: req.temperature,
        top_p: req.topP,
        seed: Math.floor(req.random.next() * 2 ** 31),
      });
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta?.content ?? "";
        if (delta) {
          text += delta;
          if (onText(delta) === false) {
            stopReason = "stop_sequence";
            this.engine.interruptGenerate();
          }
        }
        if (chunk.choices[0]?.finish_reason === "length") stopReason = "max_tokens";
        if (chunk.usage) usage = chunk.usage;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    if (signal?.aborted) throw new CanceledError(C, reasonOf(signal));
    return { text, stopReason, inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
  }

  async embed(texts: string[]): Promise<number[][]> {
    const r = await this.engine.embeddings.create({ input: texts });
    return r.data.map((d: { embedding: number[] }) => {
      const n = Math.hypot(...d.embedding) || 1;
      return d.embedding.map((x: number) => x / n);
    });
  }

  async dispose(): Promise<void> {
    await this.engine.unload();
  }
}
