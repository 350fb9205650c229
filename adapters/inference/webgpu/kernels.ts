/**
 * WGSL compute kernels of the Llama forward pass. Model dimensions are baked into the source as
 * constants; what changes per step (token count T, start position) comes from the `Step` uniform.
 * 1-D kernels take their flat index from a 2-D grid so large tensors stay under the
 * 65,535-workgroups-per-dimension limit.
 */

/** Threads per workgroup of the 1-D kernels. */
export const WG = 64;

export interface KernelDims {
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
}

const STEP = /* wgsl */ `
struct Step { T: u32, pos0: u32, S: u32, pad: u32 }
fn flat(wid: vec3u, nwg: vec3u, lid: vec3u) -> u32 { return (wid.y * nwg.x + wid.x) * ${WG}u + lid.x; }
`;

const f = (x: number) => (Number.isInteger(x) ? `${x}.0` : `${x}`);

/** x[t, :] = emb[ids[t], :] */
export const embedGather = (d: KernelDims) => `${STEP}
@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(1) var<storage, read> emb: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<uniform> step: Step;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = flat(wid, nwg, lid);
  if (i >= step.T * ${d.hidden}u) { return; }
  let t = i / ${d.hidden}u;
  x[i] = emb[ids[t] * ${d.hidden}u + i % ${d.hidden}u];
}`;

/** y[t] = x[t] / rms(x[t]) * w — one workgroup per row. */
export const rmsNorm = (d: KernelDims) => `${STEP}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> step: Step;
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let t = wid.x;
  if (t >= step.T) { return; }
  let base = t * ${d.hidden}u;
  var s = 0.0;
  for (var c = lid.x; c < ${d.hidden}u; c += 256u) { let v = x[base + c]; s += v * v; }
  red[lid.x] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid.x < k) { red[lid.x] += red[lid.x + k]; }
    workgroupBarrier();
  }
  let r = inverseSqrt(red[0] / ${f(d.hidden)} + ${d.eps.toExponential()});
  for (var c = lid.x; c < ${d.hidden}u; c += 256u) { y[base + c] = x[base + c] * r * w[c]; }
}`;

/**
 * Y[t, n] (+)= Σ_k X[t, k]·W[n, k] + B[n]: the Linear layer (W row-major [N, K], K % 4 == 0).
 * Each invocation computes a 4×4 block with vec4 loads (fastest shape measured on lavapipe).
 * dims.last = 1 uses only X's last row (logits of the next token); dims.acc = 1 adds into Y (residual).
 */
export const matmul = () => `${STEP}
struct Dims { N: u32, K: u32, last: u32, acc: u32 }
@group(0) @binding(0) var<storage, read> X: array<vec4f>;
@group(0) @binding(1) var<storage, read> W: array<vec4f>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;
@group(0) @binding(5) var<uniform> step: Step;
@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let rows = select(step.T, 1u, dims.last == 1u);
  let xrow0 = select(0u, step.T - 1u, dims.last == 1u);
  let n0 = g.x * 4u;
  let t0 = g.y * 4u;
  if (n0 >= dims.N || t0 >= rows) { return; }
  let K4 = dims.K / 4u;
  var r: array<u32, 4>;
  var c: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    r[i] = (xrow0 + min(t0 + i, rows - 1u)) * K4;
    c[i] = min(n0 + i, dims.N - 1u) * K4;
  }
  var acc: array<vec4f, 4>;
  for (var k = 0u; k < K4; k++) {
    let w0 = W[c[0] + k]; let w1 = W[c[1] + k]; let w2 = W[c[2] + k]; let w3 = W[c[3] + k];
    for (var i = 0u; i < 4u; i++) {
      let xv = X[r[i] + k];
      acc[i] += vec4f(dot(xv, w0), dot(xv, w1), dot(xv, w2), dot(xv, w3));
    }
  }
  for (var i = 0u; i < 4u; i++) {
    if (t0 + i >= rows) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (n >= dims.N) { break; }
      let o = (t0 + i) * dims.N + n;
      var v = acc[i][j] + B[n];
      if (dims.acc == 1u) { v += Y[o]; }
      Y[o] = v;
    }
  }
}`;

/** Rotary embedding in place on x [T, nHeads, D] (rotate-half pairing), cos/sin from a table [pos, D/2]. */
export const rope = (d: KernelDims, nHeads: number) => `${STEP}
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> cs: array<vec2f>;
@group(0) @binding(2) var<uniform> step: Step;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = flat(wid, nwg, lid);
  let half = ${d.headDim / 2}u;
  if (i >= step.T * ${nHeads}u * half) { return; }
  let j = i % half;
  let th = i / half;
  let t = th / ${nHeads}u;
  let base = th * ${d.headDim}u;
  let c = cs[(step.pos0 + t) * half + j];
  let x1 = x[base + j];
  let x2 = x[base + j + half];
  x[base + j] = x1 * c.x - x2 * c.y;
  x[base + j + half] = x2 * c.x + x1 * c.y;
}`;

/** Appends this step's k and v [T, kvHeads, D] to the layer's caches at position pos0. */
export const kvWrite = (d: KernelDims) => `${STEP}
@group(0) @binding(0) var<storage, read> k: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> kc: array<f32>;
@group(0) @binding(3) var<storage, read_write> vc: array<f32>;
@group(0) @binding(4) var<uniform> step: Step;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = flat(wid, nwg, lid);
  let row = ${d.kvHeads * d.headDim}u;
  if (i >= step.T * row) { return; }
  kc[step.pos0 * row + i] = k[i];
  vc[step.pos0 * row + i] = v[i];
}`;

/** att[t, h, j] = q[t, h]·k[j, h/group] / √D for the causal positions j ≤ pos0 + t (S = pos0 + T columns). */
export const attnScores = (d: KernelDims) => `${STEP}
@group(0) @binding(0) var<storage, read> q: array<vec4f>;
@group(0) @binding(1) var<storage, read> kc: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> att: array<f32>;
@group(0) @binding(3) var<uniform> step: Step;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = flat(wid, nwg, lid);
  if (i >= step.T * ${d.heads}u * step.S) { return; }
  let j = i % step.S;
  let th = i / step.S;
  let t = th / ${d.heads}u;
  if (j > step.pos0 + t) { return; }
  let h = th % ${d.heads}u;
  let kvh = h / ${d.heads / d.kvHeads}u;
  let D4 = ${d.headDim / 4}u;
  let qb = th * D4;
  let kb = (j * ${d.kvHeads}u + kvh) * D4;
  var s = 0.0;
  for (var e = 0u; e < D4; e++) { s += dot(q[qb + e], kc[kb + e]); }
  att[i] = s * ${(1 / Math.sqrt(d.headDim)).toPrecision(9)};
}`;

/** Softmax over each causal row of att in place — one workgroup per (t, h). */
export const attnSoftmax = (d: KernelDims) => `${STEP}
@group(0) @binding(0) var<storage, read_write> att: array<f32>;
@group(0) @binding(1) var<uniform> step: Step;
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let th = wid.y * 65535u + wid.x;
  if (th >= step.T * ${d.heads}u) { return; }
  let t = th / ${d.heads}u;
  let len = step.pos0 + t + 1u;
  let base = th * step.S;
  var m = -3.4e38;
  for (var j = lid.x; j < len; j += 256u) { m = max(m, att[base + j]); }
  red[lid.x] = m;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid.x < k) { red[lid.x] = max(red[lid.x], red[lid.x + k]); }
    workgroupBarrier();
  }
  let mx = red[0];
  workgroupBarrier();
  var s = 0.0;
  for (var j = lid.x; j < len; j += 256u) { let e = exp(att[base + j] - mx); att[base + j] = e; s += e; }
  red[lid.x] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid.x < k) { red[lid.x] += red[lid.x + k]; }
    workgroupBarrier();
  }
  let inv = 1.0 / red[0];
  for (var j = lid.x; j < len; j += 256u) { att[base + j] *= inv; }
}`;

/** o[t, h, e] = Σ_j att[t, h, j]·v[j, h/group, e]. */
export const attnValues = (d: KernelDims) => `${STEP}
@group(0) @binding(0) var<storage, read> att: array<f32>;
@group(0) @binding(1) var<storage, read> vc: array<f32>;
@group(0) @binding(2) var<storage, read_write> o: array<f32>;
@group(0) @binding(3) var<uniform> step: Step;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = flat(wid, nwg, lid);
  if (i >= step.T * ${d.heads * d.headDim}u) { return; }
  let e = i % ${d.headDim}u;
  let th = i / ${d.headDim}u;
  let t = th / ${d.heads}u;
  let h = th % ${d.heads}u;
  let kvh = h / ${d.heads / d.kvHeads}u;
  let len = step.pos0 + t + 1u;
  let base = th * step.S;
  var s = 0.0;
  for (var j = 0u; j < len; j++) { s += att[base + j] * vc[(j * ${d.kvHeads}u + kvh) * ${d.headDim}u + e]; }
  o[i] = s;
}`;

/** g = silu(g) · u, elementwise over T × intermediate. */
export const siluMul = (intermediate: number) => `${STEP}
@group(0) @binding(0) var<storage, read_write> g: array<f32>;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<uniform> step: Step;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = flat(wid, nwg, lid);
  if (i >= step.T * ${intermediate}u) { return; }
  let a = g[i];
  g[i] = a / (1.0 + exp(-a)) * u[i];
}`;
