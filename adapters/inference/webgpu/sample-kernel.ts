/**
 * Next-token choice on the GPU, one workgroup over the logits: argmax when temperature is 0, else
 * top-k and top-p cut-offs (found by bisection on thresholds) and an inverse-CDF draw with the
 * uniform number `u` that the host takes from its seeded Random. Only one u32 is read back.
 */
export const sampleKernel = (vocab: number) => /* wgsl */ `
struct P { temperature: f32, top_k: u32, top_p: f32, u: f32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<uniform> p: P;
@group(0) @binding(2) var<storage, read_write> result: array<u32>;
const V = ${vocab}u;
const N = 256u;
var<workgroup> rv: array<f32, 256>;
var<workgroup> ri: array<u32, 256>;
var<workgroup> bounds: array<f32, 2>;

fn sum_all(lid: u32, v: f32) -> f32 {
  rv[lid] = v;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid < k) { rv[lid] += rv[lid + k]; }
    workgroupBarrier();
  }
  let s = rv[0];
  workgroupBarrier();
  return s;
}

// Probability of token i relative to the most likely one, 0 when cut by top-k.
fn weight(i: u32, mx: f32, tk: f32) -> f32 {
  let l = logits[i];
  if (l < tk) { return 0.0; }
  return exp((l - mx) / p.temperature);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) l: vec3u) {
  let lid = l.x;
  // argmax (ties → lowest index); also the fallback of every other path
  var best = -3.4e38; var bi = 0u; var lo = 3.4e38;
  for (var i = lid; i < V; i += N) {
    let v = logits[i];
    if (v > best) { best = v; bi = i; }
    lo = min(lo, v);
  }
  rv[lid] = best; ri[lid] = bi;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid < k) {
      let ov = rv[lid + k]; let oi = ri[lid + k];
      if (ov > rv[lid] || (ov == rv[lid] && oi < ri[lid])) { rv[lid] = ov; ri[lid] = oi; }
    }
    workgroupBarrier();
  }
  let mx = rv[0];
  let amax = ri[0];
  workgroupBarrier();
  rv[lid] = lo;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid < k) { rv[lid] = min(rv[lid], rv[lid + k]); }
    workgroupBarrier();
  }
  let mn = rv[0];
  workgroupBarrier();
  if (p.temperature <= 0.0) {
    if (lid == 0u) { result[0] = amax; }
    return;
  }
  // top-k: the largest logit threshold keeping at least k tokens
  var tk = mn;
  if (p.top_k > 0u && p.top_k < V) {
    var a = mn; var b = mx;
    for (var it = 0u; it < 40u; it++) {
      let mid = a + (b - a) * 0.5;
      var c = 0.0;
      for (var i = lid; i < V; i += N) { if (logits[i] >= mid) { c += 1.0; } }
      if (sum_all(lid, c) >= f32(p.top_k)) { a = mid; } else { b = mid; }
    }
    tk = a;
  }
  var z = 0.0;
  for (var i = lid; i < V; i += N) { z += weight(i, mx, tk); }
  z = sum_all(lid, z);
  // top-p: the largest weight threshold whose kept mass is at least top_p of the total
  var tp = 0.0;
  if (p.top_p < 1.0) {
    var a = 0.0; var b = 1.0;
    for (var it = 0u; it < 40u; it++) {
      let mid = a + (b - a) * 0.5;
      var s = 0.0;
      for (var i = lid; i < V; i += N) { let w = weight(i, mx, tk); if (w >= mid) { s += w; } }
      if (sum_all(lid, s) >= p.top_p * z) { a = mid; } else { b = mid; }
    }
    tp = a;
  }
  // inverse CDF over contiguous chunks: each thread sums its chunk, thread 0 finds the chunk
  let chunk = (V + N - 1u) / N;
  let c0 = lid * chunk;
  let c1 = min(V, c0 + chunk);
  var s = 0.0;
  for (var i = c0; i < c1; i++) { let w = weight(i, mx, tk); if (w >= tp) { s += w; } }
  rv[lid] = s;
  workgroupBarrier();
  if (lid == 0u) {
    var total = 0.0;
    for (var k = 0u; k < N; k++) { total += rv[k]; }
    let goal = p.u * total;
    var acc = 0.0;
    var pick = amax;
    var found = false;
    for (var k = 0u; k < N && !found; k++) {
      if (acc + rv[k] > goal && rv[k] > 0.0) {
        let e1 = min(V, (k + 1u) * chunk);
        for (var i = k * chunk; i < e1; i++) {
          let w = weight(i, mx, tk);
          if (w >= tp) {
            acc += w;
            pick = i;
            if (acc > goal) { found = true; break; }
          }
        }
        found = true;
      } else {
        acc += rv[k];
      }
    }
    result[0] = pick;
  }
}`;
