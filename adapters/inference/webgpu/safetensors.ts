/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping tensor
 * names to `{dtype, shape, data_offsets}`, then the raw little-endian data.
 */
import { CarError } from "../../../src/errors.ts";

export type Dtype = "F32" | "F16" | "BF16";

export interface TensorView {
  dtype: Dtype;
  shape: number[];
  /** The tensor's bytes (a view into the file). */
  bytes: Uint8Array;
}

const SIZES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
/** Largest header accepted (real files have a few hundred KiB at most). */
export const MAX_SAFETENSORS_HEADER = 100 * 2 ** 20;

/** Parses a safetensors file; `name` is used in errors. */
export function parseSafetensors(file: Uint8Array, name = "model.safetensors"): Map<string, TensorView> {
  const bad = (msg: string) => new CarError("invalid_input", "inference:webgpu", `${name}: ${msg}`);
  if (file.byteLength < 8) throw bad("file shorter than its 8-byte header length");
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > MAX_SAFETENSORS_HEADER || 8 + n > file.byteLength) throw bad(`header length ${n} does not fit the file (${file.byteLength} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch (err) {
    throw bad(`header is not JSON (${(err as Error).message})`);
  }
  const data = file.subarray(8 + n);
  const out = new Map<string, TensorView>();
  for (const [key, raw] of Object.entries(header)) {
    if (key === "__metadata__") continue;
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const size = SIZES[String(t.dtype)];
    if (!size) throw bad(`tensor ${key}: unsupported dtype ${String(t.dtype)} (supported: F32, F16, BF16)`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`tensor ${key}: bad shape`);
    if (!Array.isArray(t.data_offsets) || t.data_offsets.length !== 2) throw bad(`tensor ${key}: bad data_offsets`);
    const [a, b] = t.data_offsets as number[];
    const count = (t.shape as number[]).reduce((x, y) => x * y, 1);
    if (!Number.isInteger(a) || !Number.isInteger(b) || a! < 0 || b! > data.byteLength || b! - a! !== count * size) {
      throw bad(`tensor ${key}: data_offsets [${a}, ${b}] do not match shape [${t.shape}] × ${size} bytes within ${data.byteLength} data bytes`);
    }
    out.set(key, { dtype: t.dtype as Dtype, shape: t.shape as number[], bytes: data.subarray(a!, b!) });
  }
  return out;
}

/** IEEE half → float. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

const HALF_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = halfToFloat(i);
  return t;
})();

/** The tensor's values as f32 (a copy; F16 and BF16 are widened). */
export function toFloat32(t: TensorView): Float32Array {
  const n = t.bytes.byteLength / SIZES[t.dtype]!;
  if (t.dtype === "F32") {
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(t.bytes);
    return out;
  }
  const src = new Uint16Array(n);
  new Uint8Array(src.buffer).set(t.bytes);
  const out = new Float32Array(n);
  if (t.dtype === "F16") for (let i = 0; i < n; i++) out[i] = HALF_TABLE[src[i]!]!;
  else {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = src[i]! << 16;
  }
  return out;
}

/** Float → IEEE half (round to nearest even), for writing f16 files. */
export function floatToHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** Serialises tensors (F32 or F16) into a safetensors file. */
export function writeSafetensors(tensors: Record<string, { dtype: "F32" | "F16"; shape: number[]; data: Float32Array }>): Uint8Array {
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let off = 0;
  for (const [name, t] of Object.entries(tensors)) {
    let bytes: Uint8Array;
    if (t.dtype === "F32") bytes = new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
    else {
      const h = new Uint16Array(t.data.length);
      for (let i = 0; i < h.length; i++) h[i] = floatToHalf(t.data[i]!);
      bytes = new Uint8Array(h.buffer);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + bytes.byteLength] };
    parts.push(bytes);
    off += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8) json += " ";
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.byteLength + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.byteLength), true);
  out.set(hb, 8);
  let p = 8 + hb.byteLength;
  for (const b of parts) {
    out.set(b, p);
    p += b.byteLength;
  }
  return out;
}
