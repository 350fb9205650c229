/** A Hugging Face `config.json` of the Llama family (Llama, SmolLM2, Qwen2, Mistral without sliding window). */
import { z } from "zod";
import { CarError } from "../../../src/errors.ts";

/** model_type values whose architecture this backend implements. */
export const SUPPORTED_MODEL_TYPES = ["llama", "qwen2", "mistral", "smollm2"] as const;

export const LlamaConfig = z.object({
  model_type: z.string().default("llama"),
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().optional(),
  head_dim: z.number().int().positive().optional(),
  vocab_size: z.number().int().positive(),
  rms_norm_eps: z.number().positive().default(1e-6),
  rope_theta: z.number().positive().default(10000),
  rope_scaling: z.object({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    factor: z.number().positive().optional(),
    low_freq_factor: z.number().optional(),
    high_freq_factor: z.number().optional(),
    original_max_position_embeddings: z.number().optional(),
  }).nullish(),
  max_position_embeddings: z.number().int().positive().default(2048),
  tie_word_embeddings: z.boolean().default(false),
  hidden_act: z.string().default("silu"),
  bos_token_id: z.union([z.number().int(), z.null()]).optional(),
  eos_token_id: z.union([z.number().int(), z.array(z.number().int()), z.null()]).optional(),
  sliding_window: z.number().nullish(),
  use_sliding_window: z.boolean().optional(),
});
export type LlamaConfig = z.infer<typeof LlamaConfig>;

/** Validated dimensions the kernels are built for. */
export interface ModelDims {
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  eps: number;
}

/** Parses config.json and checks the architecture is one this backend runs. */
export function parseConfig(raw: unknown): { config: LlamaConfig; dims: ModelDims } {
  const r = LlamaConfig.safeParse(raw);
  const C = "inference:webgpu";
  if (!r.success) throw new CarError("invalid_input", C, `config.json: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  const c = r.data;
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(c.model_type)) {
    throw new CarError("unsupported", C, `config.json: model_type '${c.model_type}' is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(", ")})`);
  }
  if (c.hidden_act !== "silu") throw new CarError("unsupported", C, `config.json: hidden_act '${c.hidden_act}' is not supported (silu only)`);
  if (c.use_sliding_window) throw new CarError("unsupported", C, "config.json: sliding-window attention is not supported");
  const kvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  const dims: ModelDims = {
    hidden: c.hidden_size, intermediate: c.intermediate_size, layers: c.num_hidden_layers, heads: c.num_attention_heads,
    kvHeads, headDim, vocab: c.vocab_size, eps: c.rms_norm_eps,
  };
  const fail = (m: string) => new CarError("unsupported", C, `config.json: ${m}`);
  if (!Number.isInteger(headDim) || headDim % 4 !== 0) throw fail(`head_dim ${headDim} must be an integer multiple of 4`);
  if (c.num_attention_heads % kvHeads !== 0) throw fail(`num_attention_heads ${c.num_attention_heads} is not a multiple of num_key_value_heads ${kvHeads}`);
  if (c.hidden_size % 4 !== 0 || c.intermediate_size % 4 !== 0) throw fail("hidden_size and intermediate_size must be multiples of 4");
  return { config: c, dims };
}

/** Inverse rotary frequencies, with Llama 3 / linear scaling applied when configured. */
export function ropeInvFreq(c: LlamaConfig, headDim: number): Float64Array {
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / c.rope_theta ** ((2 * i) / headDim);
  const s = c.rope_scaling;
  const kind = s?.rope_type ?? s?.type;
  if (!s || !kind || kind === "default") return inv;
  const factor = s.factor ?? 1;
  if (kind === "linear") return inv.map((f) => f / factor);
  if (kind === "llama3") {
    const lowF = s.low_freq_factor ?? 1, highF = s.high_freq_factor ?? 4, old = s.original_max_position_embeddings ?? 8192;
    const lowWave = old / lowF, highWave = old / highF;
    return inv.map((f) => {
      const wave = (2 * Math.PI) / f;
      if (wave < highWave) return f;
      if (wave > lowWave) return f / factor;
      const smooth = (old / wave - lowF) / (highF - lowF);
      return (1 - smooth) * (f / factor) + smooth * f;
    });
  }
  throw new CarError("unsupported", "inference:webgpu", `config.json: rope_scaling type '${kind}' is not supported (linear, llama3)`);
}
