/** The interface every inference backend implements (WebGPU, web-llm, …); the engine only sees this. */
import type { Random } from "../engine/random.ts";
import type { ChatMessage, StopReason } from "./schemas.ts";
import type { ModelSchema } from "./model-schemas.ts";

/** Progress while a backend loads a model (bytes of weights read so far). */
export interface LoadProgress {
  phase: "config" | "tokenizer" | "weights" | "upload" | "ready";
  loadedBytes: number;
  totalBytes: number | null;
}

export interface LoadOptions {
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
}

/** Facts a loaded model reports about itself. */
export interface LoadedModelInfo {
  family: string;
  contextLength: number;
  vocabSize: number;
  paramCount: number;
  sizeBytes: number;
}

/** One generation, already validated and defaulted by the engine. */
export interface BackendGenerateRequest {
  messages: ChatMessage[];
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** 0 = no top-k cut. */
  topK: number;
  /** 1 = no nucleus cut. */
  topP: number;
  random: Random;
}

export interface BackendGenerateResult {
  text: string;
  stopReason: StopReason;
  inputTokens: number;
  outputTokens: number;
}

/** A model in memory, ready to run. Optional methods enable embed / classify / rerank / tokenize. */
export interface LoadedModel {
  readonly info: LoadedModelInfo;
  /**
   * Generates text, calling `onText` with each decoded delta as soon as it is known. Returning
   * `false` from `onText` stops generation (the engine's stop sequences). Rejects with a
   * CanceledError when `signal` aborts.
   */
  generate(req: BackendGenerateRequest, onText: (delta: string) => boolean | void, signal?: AbortSignal): Promise<BackendGenerateResult>;
  /** One vector per text (L2-normalised). */
  embed?(texts: string[], signal?: AbortSignal): Promise<number[][]>;
  /** Sum of log-probabilities of each continuation's tokens following `prompt`, and their token counts. */
  scoreContinuations?(prompt: string, continuations: string[], signal?: AbortSignal): Promise<Array<{ logprob: number; tokens: number }>>;
  tokenize?(text: string): number[];
  detokenize?(ids: number[]): string;
  dispose(): Promise<void>;
}

/** Loads models of one kind. `spec.source` says where the weights are. */
export interface InferenceBackend {
  readonly name: string;
  load(spec: ModelSchema, options?: LoadOptions): Promise<LoadedModel>;
}
