import { canonicalJson } from "./canonical-json.ts";

/**
 * A short, stable, non-cryptographic digest (FNV-1a 64 over the UTF-16 code units of the canonical
 * JSON) of a JSON value, so events never carry raw parameters. Computed in four 16-bit limbs:
 * BigInt arithmetic allocated two numbers per character.
 */
export function paramsDigest(value: unknown): string {
  const s = canonicalJson(value);
  // Offset basis 0xcbf29ce484222325, least significant limb first.
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < s.length; i++) {
    h0 ^= s.charCodeAt(i);
    // × prime 0x100000001b3 = 0x1b3 + 0x100 · 2⁴⁰ (limb 2), modulo 2⁶⁴.
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + h0 * 0x100 + (t1 >>> 16);
    const t3 = h3 * 0x1b3 + h1 * 0x100 + (t2 >>> 16);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  return hex4(h3) + hex4(h2) + hex4(h1) + hex4(h0);
}

const hex4 = (x: number) => x.toString(16).padStart(4, "0");
