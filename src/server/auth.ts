import type { Random } from "../engine/random.ts";
import { systemRandom } from "../engine/random.ts";

/** Length of a minted token: 32 random bytes as unpadded base64url. */
export const TOKEN_LENGTH = 43;

/** Unpadded base64url of `bytes`. */
export function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A fresh daemon token: 32 random bytes, base64url without padding (43 chars). */
export function mintToken(random: Random = systemRandom): string {
  return base64url(random.bytes(32));
}

const encoder = new TextEncoder();

/**
 * Compares a presented token with the expected one in time that depends only on the expected
 * token's length, so timing reveals nothing about how many leading characters matched.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = encoder.encode(presented);
  const b = encoder.encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i % Math.max(1, a.length)] ?? 0) ^ b[i]!;
  return diff === 0 && a.length === b.length;
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(header: string | undefined | null): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return m?.[1];
}
