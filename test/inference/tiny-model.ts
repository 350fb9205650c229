/** Builds a tiny random-weight Llama model folder (config.json, model.safetensors, tokenizer.json). */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SeededRandom } from "../../src/engine/random.ts";
import { floatToHalf, halfToFloat, writeSafetensors } from "../../adapters/inference/webgpu/safetensors.ts";

export interface TinyModelOptions {
  dtype?: "F32" | "F16";
  seed?: number;
  hidden?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  intermediate?: number;
  /** Qwen2-style q/k/v biases. */
  bias?: boolean;
  tied?: boolean;
  maxPositions?: number;
}

export interface TinyModel {
  dir: string;
  config: { hidden: number; intermediate: number; layers: number; heads: number; kvHeads: number; headDim: number; vocab: number; eps: number; ropeTheta: number };
  /** The weights as written (f16 ones rounded), by Hugging Face tensor name. */
  tensors: Record<string, Float32Array>;
  eosId: number;
}

const MERGES = ["Ġ t", "h e", "Ġ a", "i n", "e r", "o n", "Ġt he", "r e", "a n", "o r", "e n", "Ġ s", "Ġ w", "a t", "i s", "Ġ o", "Ġ c", "e s", "o u", "l l", "Ġ b", "Ġ f", "Ġ m", "i t", "Ġ p", "e d", "Ġ h", "in g", "Ġ d", "a r"];

/** GPT-2's byte → printable character table of byte-level BPE. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  const out = new Array<string>(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i]!)));
  return out;
}

/** A byte-level BPE tokenizer.json with 256 byte tokens, MERGES, and three ChatML-style special tokens. */
export function tinyTokenizer(): { json: object; vocabSize: number; eosId: number } {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((c, i) => (vocab[c] = i));
  for (const m of MERGES) vocab[m.replace(" ", "")] = Object.keys(vocab).length;
  const specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
  const base = Object.keys(vocab).length;
  const added = specials.map((content, i) => ({ id: base + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const bl = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    json: {
      version: "1.0", truncation: null, padding: null, added_tokens: added, normalizer: null,
      pre_tokenizer: bl, post_processor: bl, decoder: bl,
      model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: MERGES },
    },
    vocabSize: base + specials.length,
    eosId: base + 2,
  };
}

/** Writes the folder and returns what the oracle needs. */
export async function writeTinyModel(dir: string, o: TinyModelOptions = {}): Promise<TinyModel> {
  const r = new SeededRandom(o.seed ?? 7);
  const tok = tinyTokenizer();
  const hidden = o.hidden ?? 64, layers = o.layers ?? 2, heads = o.heads ?? 4, kvHeads = o.kvHeads ?? 2, intermediate = o.intermediate ?? 128;
  const headDim = hidden / heads;
  const vocab = tok.vocabSize;
  const dtype = o.dtype ?? "F32";
  const round = (a: Float32Array) => (dtype === "F16" ? a.map((x) => halfToFloat(floatToHalf(x))) : a);
  const tensors: Record<string, Float32Array> = {};
  const shapes: Record<string, number[]> = {};
  const add = (name: string, shape: number[], scale: number, offset = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    tensors[name] = round(Float32Array.from({ length: n }, () => offset + (r.next() * 2 - 1) * scale));
    shapes[name] = shape;
  };
  add("model.embed_tokens.weight", [vocab, hidden], 1);
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}.`;
    add(`${p}input_layernorm.weight`, [hidden], 0.1, 1);
    add(`${p}post_attention_layernorm.weight`, [hidden], 0.1, 1);
    add(`${p}self_attn.q_proj.weight`, [heads * headDim, hidden], 2 / Math.sqrt(hidden));
    add(`${p}self_attn.k_proj.weight`, [kvHeads * headDim, hidden], 2 / Math.sqrt(hidden));
    add(`${p}self_attn.v_proj.weight`, [kvHeads * headDim, hidden], 1.5 / Math.sqrt(hidden));
    add(`${p}self_attn.o_proj.weight`, [hidden, heads * headDim], 1.5 / Math.sqrt(hidden));
    if (o.bias) {
      add(`${p}self_attn.q_proj.bias`, [heads * headDim], 0.2);
      add(`${p}self_attn.k_proj.bias`, [kvHeads * headDim], 0.2);
      add(`${p}self_attn.v_proj.bias`, [kvHeads * headDim], 0.2);
    }
    add(`${p}mlp.gate_proj.weight`, [intermediate, hidden], 1.5 / Math.sqrt(hidden));
    add(`${p}mlp.up_proj.weight`, [intermediate, hidden], 1.5 / Math.sqrt(hidden));
    add(`${p}mlp.down_proj.weight`, [hidden, intermediate], 1.5 / Math.sqrt(intermediate));
  }
  add("model.norm.weight", [hidden], 0.1, 1);
  if (!o.tied) add("lm_head.weight", [vocab, hidden], 2 / Math.sqrt(hidden));
  const cfg = {
    architectures: [o.bias ? "Qwen2ForCausalLM" : "LlamaForCausalLM"], model_type: o.bias ? "qwen2" : "llama",
    hidden_size: hidden, intermediate_size: intermediate, num_hidden_layers: layers, num_attention_heads: heads, num_key_value_heads: kvHeads,
    vocab_size: vocab, rms_norm_eps: 1e-5, rope_theta: 10000, max_position_embeddings: o.maxPositions ?? 256,
    tie_word_embeddings: o.tied ?? false, hidden_act: "silu", eos_token_id: tok.eosId, torch_dtype: dtype === "F16" ? "float16" : "float32",
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "config.json"), JSON.stringify(cfg, null, 2));
  await writeFile(join(dir, "tokenizer.json"), JSON.stringify(tok.json));
  await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({ eos_token: "<|im_end|>", bos_token: null, clean_up_tokenization_spaces: false }));
  const st: Record<string, { dtype: "F32" | "F16"; shape: number[]; data: Float32Array }> = {};
  for (const [k, v] of Object.entries(tensors)) st[k] = { dtype, shape: shapes[k]!, data: v };
  await writeFile(join(dir, "model.safetensors"), writeSafetensors(st));
  return { dir, config: { hidden, intermediate, layers, heads, kvHeads, headDim, vocab, eps: 1e-5, ropeTheta: 10000 }, tensors, eosId: tok.eosId };
}
