import { canonicalJson } from "./canonical-json.ts";

/** A short, stable, non-cryptographic digest (FNV-1a 64) of a JSON value, so events never carry raw parameters. */
export function paramsDigest(value: unknown): string {
  const s = canonicalJson(value);
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * prime) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}
