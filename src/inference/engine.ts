/** The InferenceEngine facade: generate, stream, embed, classify, rerank, tokenize over a model registry. */
import { CarError, CanceledError } from "../errors.ts";
import { systemClock, reasonOf, type Clock } from "../engine/clock.ts";
import { SeededRandom, hexId, systemRandom, type Random } from "../engine/random.ts";
import { parseWith } from "../ir/parse.ts";
import type { Storage } from "../storage/storage.ts";
import { Admission } from "./admission.ts";
import type { InferenceBackend, LoadedModel, LoadProgress } from "./backend.ts";
import { ModelRegistry } from "./registry.ts";
import { route } from "./router.ts";
import { RunnerSlot } from "./runner.ts";
import { InferenceSettings, type InferenceSettingsInput } from "./settings.ts";
import { ModelStats } from "./stats.ts";
import { StopSequenceFilter } from "./stop-sequences.ts";
import { runGenerate, type GenerateContext } from "./generate.ts";
import { ClassifyParams, EmbedParams, GenerateRequest, RerankParams, TokenizeParams, DetokenizeParams, type ClassifyResult, type EmbedResult, type GenerateResult, type ModelCapability, type RerankResult, type StreamEvent, type TokenizeResult, type DetokenizeResult } from "./schemas.ts";
import { RouteParams, type ModelSchema, type PullProgress, type RouteResult } from "./model-schemas.ts";
import { classifyWith, rerankWith } from "./scoring.ts";

const C = "inference";

export interface InferenceEngineOptions {
  /** Backends by name; a local model's `source.backend` picks one (default `webgpu`). */
  backends?: Record<string, InferenceBackend>;
  /** Where registered models persist; none = in memory only. */
  storage?: Storage;
  clock?: Clock;
  random?: Random;
  settings?: InferenceSettingsInput;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface GenerateOptions extends CallOptions {
  /** Receives every stream event (wire tags) as it happens. */
  onEvent?: (e: StreamEvent) => void;
}

export class InferenceEngine {
  readonly settings: InferenceSettings;
  readonly registry: ModelRegistry;
  readonly stats = new ModelStats();
  readonly admission: Admission;
  readonly runners: RunnerSlot;
  private readonly backends: Record<string, InferenceBackend>;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly loading = new Map<string, Promise<LoadedModel>>();

  constructor(options: InferenceEngineOptions = {}) {
    this.settings = parseWith(InferenceSettings, options.settings ?? {}, "inference settings", C);
    this.backends = { ...options.backends };
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.registry = new ModelRegistry(options.storage);
    this.admission = new Admission(this.settings.maxConcurrent, this.settings.maxQueued, this.settings.envOverride);
    this.runners = new RunnerSlot(this.clock, this.random, this.settings.runnerTimeoutMs);
  }

  /** Restores persisted registrations. */
  async init(): Promise<void> {
    await this.registry.restore();
  }

  /** Adds (or replaces) a backend. */
  addBackend(backend: InferenceBackend): void {
    this.backends[backend.name] = backend;
  }

  /** Whether a model can be used now (its backend exists, or a runner is registered). */
  isAvailable = (m: ModelSchema): boolean => {
    if (m.source.type === "delegated") return this.runners.has();
    if (m.source.type === "local") return this.backends[m.source.backend] !== undefined;
    return false;
  };

  /** Runs one generation (`infer`); `onEvent` turns it into a stream (`infer_stream`). */
  async generate(request: GenerateRequest | unknown, options: GenerateOptions = {}): Promise<GenerateResult> {
    const req = parseWith(GenerateRequest, request, "generate request", C);
    const model = this.pick(req.model, promptOf(req), "generate", req.intent);
    const ctx: GenerateContext = {
      clock: this.clock,
      settings: this.settings,
      traceId: hexId(this.random, 16),
      random: new SeededRandom(req.seed ?? Math.floor(this.random.next() * 2 ** 32)),
      stop: new StopSequenceFilter(typeof req.stop === "string" ? [req.stop] : (req.stop ?? [])),
      emit: options.onEvent ?? (() => {}),
    };
    const started = this.clock.now();
    try {
      const result = await this.admission.run(async () => {
        if (model.source.type === "delegated") return await runGenerate(ctx, req, model, { runner: this.runners }, options.signal);
        const lm = await this.load(model, options.signal);
        return await runGenerate(ctx, req, model, { loaded: lm }, options.signal);
      }, options.signal);
      this.stats.record(model.id, true, this.clock.now() - started);
      return result;
    } catch (err) {
      if (!(err instanceof CanceledError)) this.stats.record(model.id, false, this.clock.now() - started);
      throw err;
    }
  }

  /** The same generation as an async stream of events, ending with `done {text, tool_calls}`. */
  async *stream(request: GenerateRequest | unknown, options: CallOptions = {}): AsyncGenerator<StreamEvent, GenerateResult> {
    const queue: StreamEvent[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    const done = this.generate(request, { ...options, onEvent: (e) => { queue.push(e); wake?.(); } }).finally(() => { finished = true; wake?.(); });
    done.catch(() => {}); // observed below
    for (;;) {
      while (queue.length) yield queue.shift()!;
      if (finished) break;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
    const result = await done;
    yield { type: "done", text: result.text, tool_calls: result.tool_calls };
    return result;
  }

  /** `embed`: one L2-normalised vector per text. */
  async embed(params: EmbedParams | unknown, options: CallOptions = {}): Promise<EmbedResult> {
    const p = parseWith(EmbedParams, params, "embed params", C);
    this.limitBatch(p.texts.length, "texts");
    const model = this.pick(p.model, p.texts.join("\n"), "embed");
    const embeddings = await this.withLoaded(model, options.signal, (lm) => {
      if (!lm.embed) throw new CarError("unsupported", C, `model ${model.id} cannot embed`);
      return lm.embed(p.texts, options.signal);
    });
    return { embeddings, model_used: model.id };
  }

  /** `classify`: a probability per label, highest first. */
  async classify(params: ClassifyParams | unknown, options: CallOptions = {}): Promise<ClassifyResult> {
    const p = parseWith(ClassifyParams, params, "classify params", C);
    this.limitBatch(p.labels.length, "labels");
    const model = this.pick(p.model, p.text, "classify");
    const classifications = await this.withLoaded(model, options.signal, (lm) => classifyWith(lm, p.text, p.labels, options.signal));
    return { classifications, model_used: model.id };
  }

  /** `rerank`: documents by relevance to the query, best first. */
  async rerank(params: RerankParams | unknown, options: CallOptions = {}): Promise<RerankResult> {
    const p = parseWith(RerankParams, params, "rerank params", C);
    this.limitBatch(p.documents.length, "documents");
    const model = this.pick(p.model, p.query, "rerank");
    const ranked = await this.withLoaded(model, options.signal, (lm) => rerankWith(lm, p.query, p.documents, p.instruction, options.signal));
    return { ranked: ranked.slice(0, p.top_n ?? ranked.length), model_used: model.id };
  }

  /** `tokenize`: the model's token ids for a text. */
  async tokenize(params: TokenizeParams | unknown, options: CallOptions = {}): Promise<TokenizeResult> {
    const p = parseWith(TokenizeParams, params, "tokenize params", C);
    const model = this.pick(p.model, p.text, "generate");
    const lm = await this.load(model, options.signal);
    if (!lm.tokenize) throw new CarError("unsupported", C, `model ${model.id} has no tokenizer`);
    const tokens = lm.tokenize(p.text);
    return { tokens, count: tokens.length, model_used: model.id };
  }

  /** `detokenize`: text for token ids. */
  async detokenize(params: DetokenizeParams | unknown, options: CallOptions = {}): Promise<DetokenizeResult> {
    const p = parseWith(DetokenizeParams, params, "detokenize params", C);
    const model = this.pick(p.model, "", "generate");
    const lm = await this.load(model, options.signal);
    if (!lm.detokenize) throw new CarError("unsupported", C, `model ${model.id} has no tokenizer`);
    return { text: lm.detokenize(p.tokens), model_used: model.id };
  }

  /** `models.pull`: loads a model's weights now, reporting progress. */
  async pull(id: string, options: CallOptions & { onProgress?: (p: PullProgress) => void } = {}): Promise<{ model_id: string; weights_ready: boolean; size_mb: number }> {
    const model = this.registry.require(id);
    if (model.source.type !== "local") throw new CarError("unsupported", C, `model ${id} has no weights to pull (source ${model.source.type})`);
    const lm = await this.load(model, options.signal, (p) => options.onProgress?.({ model_id: id, phase: p.phase, loaded_bytes: p.loadedBytes, total_bytes: p.totalBytes, done: false }));
    const size = lm.info.sizeBytes;
    options.onProgress?.({ model_id: id, phase: "ready", loaded_bytes: size, total_bytes: size, done: true });
    return { model_id: id, weights_ready: true, size_mb: Math.round((size / 2 ** 20) * 10) / 10 };
  }

  /** `models.route`. */
  route(params: unknown): RouteResult {
    const p = parseWith(RouteParams, params, "route params", C);
    return route(this.registry.list(), this.stats, p.prompt, p.intent, capabilityFor(p.intent?.task), this.isAvailable);
  }

  /** Frees every loaded model. */
  async close(): Promise<void> {
    await this.registry.close();
  }

  /** The loaded model for `spec`, loading it once even when asked concurrently. */
  async load(spec: ModelSchema, signal?: AbortSignal, onProgress?: (p: LoadProgress) => void): Promise<LoadedModel> {
    const ready = this.registry.loadedModel(spec.id);
    if (ready) return ready;
    if (spec.source.type !== "local") throw new CarError("unsupported", C, `model ${spec.id} is not loaded locally (source ${spec.source.type})`);
    const backend = this.backends[spec.source.backend];
    if (!backend) throw new CarError("unsupported", C, `no inference backend '${spec.source.backend}' for model ${spec.id} (have: ${Object.keys(this.backends).join(", ") || "none"})`);
    let p = this.loading.get(spec.id);
    if (!p) {
      p = backend.load(spec, { ...(signal ? { signal } : {}), ...(onProgress ? { onProgress } : {}) }).then((lm) => {
        if (this.registry.get(spec.id) === spec) this.registry.setLoaded(spec.id, lm);
        return lm;
      });
      this.loading.set(spec.id, p);
      p.finally(() => this.loading.delete(spec.id)).catch(() => {});
    }
    if (!signal) return p;
    return await Promise.race([p, abortPromise(signal)]);
  }

  private pick(id: string | null | undefined, prompt: string, capability: ModelCapability, intent?: GenerateRequest["intent"]): ModelSchema {
    if (prompt.length > this.settings.maxInputChars) throw new CarError("invalid_input", C, `input of ${prompt.length} characters exceeds maxInputChars ${this.settings.maxInputChars}`);
    if (id) return this.registry.require(id);
    return this.registry.require(route(this.registry.list(), this.stats, prompt, intent, capability, this.isAvailable).model_id);
  }

  private limitBatch(n: number, what: string): void {
    if (n > this.settings.maxBatchItems) throw new CarError("invalid_input", C, `${n} ${what} exceed maxBatchItems ${this.settings.maxBatchItems}`);
  }

  private async withLoaded<T>(model: ModelSchema, signal: AbortSignal | undefined, fn: (lm: LoadedModel) => Promise<T>): Promise<T> {
    return await this.admission.run(async () => fn(await this.load(model, signal)), signal);
  }
}

function promptOf(req: GenerateRequest): string {
  return [req.system ?? "", ...(req.messages ?? []).map((m) => m.content), req.prompt ?? ""].join("\n");
}

function capabilityFor(task: string | undefined): ModelCapability {
  return task === "classify" ? "classify" : "generate";
}

function abortPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new CanceledError(C, reasonOf(signal)));
    signal.addEventListener("abort", () => reject(new CanceledError(C, reasonOf(signal))), { once: true });
  });
}

