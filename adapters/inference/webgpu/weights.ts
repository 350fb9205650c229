/** Reads the model's safetensors (single file or sharded) into the f32 arrays the GPU model takes. */
import { CarError } from "../../../src/errors.ts";
import type { LoadProgress } from "../../../src/inference/backend.ts";
import type { ModelDims } from "./config.ts";
import type { LlamaWeights } from "./gpu-llama.ts";
import { readOptionalJson, type ModelFiles } from "./model-files.ts";
import { parseSafetensors, toFloat32, type TensorView } from "./safetensors.ts";

const C = "inference:webgpu";

/** All tensors of the folder: `model.safetensors`, or the shards named by `model.safetensors.index.json`. */
export async function readTensors(files: ModelFiles, signal?: AbortSignal, onProgress?: (p: LoadProgress) => void): Promise<{ tensors: Map<string, TensorView>; bytes: number }> {
  const index = (await readOptionalJson(files, "model.safetensors.index.json", signal)) as { weight_map?: Record<string, string> } | undefined;
  const names = index?.weight_map ? [...new Set(Object.values(index.weight_map))].sort() : ["model.safetensors"];
  const tensors = new Map<string, TensorView>();
  let done = 0;
  for (const name of names) {
    const bytes = await files.read(name, {
      ...(signal ? { signal } : {}),
      onProgress: (loaded, total) => onProgress?.({ phase: "weights", loadedBytes: done + loaded, totalBytes: total === null || names.length > 1 ? null : total }),
    });
    if (!bytes) throw new CarError("not_found", "inference:files", `${files.location}: missing ${name}`);
    done += bytes.byteLength;
    for (const [k, v] of parseSafetensors(bytes, name)) tensors.set(k, v);
  }
  return { tensors, bytes: done };
}

/** Picks and checks the Llama tensors by their Hugging Face names. */
export function llamaWeights(tensors: Map<string, TensorView>, dims: ModelDims, tied: boolean): LlamaWeights {
  const get = (name: string, shape: number[]): Float32Array => {
    const t = tensors.get(name);
    if (!t) throw new CarError("invalid_input", C, `model.safetensors: missing tensor ${name}`);
    if (t.shape.join("x") !== shape.join("x")) throw new CarError("invalid_input", C, `tensor ${name}: shape [${t.shape}] but config.json implies [${shape}]`);
    return toFloat32(t);
  };
  const opt = (name: string, shape: number[]) => (tensors.has(name) ? get(name, shape) : undefined);
  const { hidden: H, intermediate: I, heads, kvHeads, headDim: D, vocab: V } = dims;
  const layers: LlamaWeights["layers"] = [];
  for (let l = 0; l < dims.layers; l++) {
    const p = `model.layers.${l}.`;
    const layer: LlamaWeights["layers"][number] = {
      ln1: get(`${p}input_layernorm.weight`, [H]),
      ln2: get(`${p}post_attention_layernorm.weight`, [H]),
      q: get(`${p}self_attn.q_proj.weight`, [heads * D, H]),
      k: get(`${p}self_attn.k_proj.weight`, [kvHeads * D, H]),
      v: get(`${p}self_attn.v_proj.weight`, [kvHeads * D, H]),
      o: get(`${p}self_attn.o_proj.weight`, [H, heads * D]),
      gate: get(`${p}mlp.gate_proj.weight`, [I, H]),
      up: get(`${p}mlp.up_proj.weight`, [I, H]),
      down: get(`${p}mlp.down_proj.weight`, [H, I]),
    };
    const qb = opt(`${p}self_attn.q_proj.bias`, [heads * D]), kb = opt(`${p}self_attn.k_proj.bias`, [kvHeads * D]);
    const vb = opt(`${p}self_attn.v_proj.bias`, [kvHeads * D]), ob = opt(`${p}self_attn.o_proj.bias`, [H]);
    if (qb) layer.qb = qb;
    if (kb) layer.kb = kb;
    if (vb) layer.vb = vb;
    if (ob) layer.ob = ob;
    layers.push(layer);
  }
  const embed = get("model.embed_tokens.weight", [V, H]);
  const lmHead = tensors.has("lm_head.weight") ? get("lm_head.weight", [V, H]) : tied ? null : get("lm_head.weight", [V, H]);
  return { embed, lmHead, finalNorm: get("model.norm.weight", [H]), layers };
}
