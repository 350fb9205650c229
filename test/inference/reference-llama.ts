/**
 * The oracle: a plain TypeScript Llama forward pass in float64, written straight from the math,
 * recomputing the whole sequence every time (no KV cache).
 */
import type { TinyModel } from "./tiny-model.ts";

type Vec = Float64Array;

export class ReferenceLlama {
  constructor(private readonly m: TinyModel) {}

  private w(name: string): Float32Array {
    const t = this.m.tensors[name];
    if (!t) throw new Error(`no tensor ${name}`);
    return t;
  }

  /** y = W x (+ b), W row-major [out, in]. */
  private linear(x: Vec, name: string, out: number, bias?: string): Vec {
    const W = this.w(name);
    const b = bias ? this.m.tensors[bias] : undefined;
    const n = x.length;
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < n; i++) s += W[o * n + i]! * x[i]!;
      y[o] = s;
    }
    return y;
  }

  private rmsnorm(x: Vec, name: string): Vec {
    const w = this.w(name);
    let ss = 0;
    for (const v of x) ss += v * v;
    const r = 1 / Math.sqrt(ss / x.length + this.m.config.eps);
    return x.map((v, i) => v * r * w[i]!);
  }

  private rope(x: Vec, nHeads: number, pos: number): Vec {
    const D = this.m.config.headDim;
    const half = D / 2;
    const y = new Float64Array(x);
    for (let h = 0; h < nHeads; h++) {
      for (let j = 0; j < half; j++) {
        const a = pos / this.m.config.ropeTheta ** ((2 * j) / D);
        const x1 = x[h * D + j]!, x2 = x[h * D + j + half]!;
        y[h * D + j] = x1 * Math.cos(a) - x2 * Math.sin(a);
        y[h * D + j + half] = x2 * Math.cos(a) + x1 * Math.sin(a);
      }
    }
    return y;
  }

  /** Final-norm hidden states and logits for every position of `ids`. */
  forward(ids: number[]): { hidden: Vec[]; logits: Vec[] } {
    const c = this.m.config;
    const { hidden: H, heads, kvHeads, headDim: D, vocab: V, intermediate: I } = c;
    const emb = this.w("model.embed_tokens.weight");
    let xs: Vec[] = ids.map((id) => Float64Array.from(emb.subarray(id * H, (id + 1) * H)));
    for (let l = 0; l < c.layers; l++) {
      const p = `model.layers.${l}.`;
      const qs: Vec[] = [], ks: Vec[] = [], vs: Vec[] = [];
      xs.forEach((x, t) => {
        const xn = this.rmsnorm(x, `${p}input_layernorm.weight`);
        qs.push(this.rope(this.linear(xn, `${p}self_attn.q_proj.weight`, heads * D, this.m.tensors[`${p}self_attn.q_proj.bias`] ? `${p}self_attn.q_proj.bias` : undefined), heads, t));
        ks.push(this.rope(this.linear(xn, `${p}self_attn.k_proj.weight`, kvHeads * D, this.m.tensors[`${p}self_attn.k_proj.bias`] ? `${p}self_attn.k_proj.bias` : undefined), kvHeads, t));
        vs.push(this.linear(xn, `${p}self_attn.v_proj.weight`, kvHeads * D, this.m.tensors[`${p}self_attn.v_proj.bias`] ? `${p}self_attn.v_proj.bias` : undefined));
      });
      xs = xs.map((x, t) => {
        const o = new Float64Array(heads * D);
        for (let h = 0; h < heads; h++) {
          const kh = Math.floor(h / (heads / kvHeads));
          const sc: number[] = [];
          for (let j = 0; j <= t; j++) {
            let s = 0;
            for (let e = 0; e < D; e++) s += qs[t]![h * D + e]! * ks[j]![kh * D + e]!;
            sc.push(s / Math.sqrt(D));
          }
          const m = Math.max(...sc);
          const ex = sc.map((s) => Math.exp(s - m));
          const z = ex.reduce((a, b) => a + b, 0);
          for (let j = 0; j <= t; j++) for (let e = 0; e < D; e++) o[h * D + e] = o[h * D + e]! + (ex[j]! / z) * vs[j]![kh * D + e]!;
        }
        const a = this.linear(o, `${p}self_attn.o_proj.weight`, H);
        const x1 = x.map((v, i) => v + a[i]!);
        const xn = this.rmsnorm(x1, `${p}post_attention_layernorm.weight`);
        const g = this.linear(xn, `${p}mlp.gate_proj.weight`, I);
        const u = this.linear(xn, `${p}mlp.up_proj.weight`, I);
        const act = g.map((v, i) => (v / (1 + Math.exp(-v))) * u[i]!);
        const dn = this.linear(act, `${p}mlp.down_proj.weight`, H);
        return x1.map((v, i) => v + dn[i]!);
      });
    }
    const hidden = xs.map((x) => this.rmsnorm(x, "model.norm.weight"));
    const head = this.m.tensors["lm_head.weight"] ? "lm_head.weight" : "model.embed_tokens.weight";
    return { hidden, logits: hidden.map((h) => this.linear(h, head, V)) };
  }

  /** Greedy continuation of `ids`: up to `n` tokens, stopping at `eos`. */
  greedy(ids: number[], n: number, eos: number): number[] {
    const seq = [...ids];
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const l = this.forward(seq).logits.at(-1)!;
      let best = 0;
      for (let k = 1; k < l.length; k++) if (l[k]! > l[best]!) best = k;
      if (best === eos) break;
      out.push(best);
      seq.push(best);
    }
    return out;
  }
}
