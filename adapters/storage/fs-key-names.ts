import { createHash } from "node:crypto";

/** Longest encoded key kept readable in a file name; longer keys get a hashed name (255-byte name limits). */
export const MAX_READABLE_NAME = 200;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const SAFE = /^[a-z0-9_-]$/;

/**
 * The file name of a key, injective and safe everywhere: `[a-z0-9_-]` stay, every other UTF-8
 * byte becomes `%xx` (lowercase), behind a `k` (so no name is `.`, `..`, `con`, or starts with
 * a dot). Only lowercase ASCII is produced, so case-insensitive or normalising file systems
 * (macOS, Windows) cannot merge two keys. Names that would be too long are `h` + SHA-256 of the
 * key; those files carry the key in their header, which is checked on every read.
 */
export function keyToName(key: string): string {
  let out = "k";
  for (const ch of key) {
    if (SAFE.test(ch)) out += ch;
    else for (const b of encoder.encode(ch)) out += "%" + b.toString(16).padStart(2, "0");
    if (out.length > MAX_READABLE_NAME) return "h" + createHash("sha256").update(key, "utf8").digest("hex");
  }
  return out;
}

/** The key of a readable (`k`) name; undefined for hashed names and anything not made by `keyToName`. */
export function nameToKey(name: string): string | undefined {
  if (!name.startsWith("k") || name.length > MAX_READABLE_NAME) return undefined;
  const bytes: number[] = [];
  for (let i = 1; i < name.length; i++) {
    const c = name[i]!;
    if (c === "%") {
      const hex = name.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (SAFE.test(c)) bytes.push(c.charCodeAt(0));
    else return undefined;
  }
  try {
    const key = decoder.decode(new Uint8Array(bytes));
    return keyToName(key) === name ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `name` is a hashed-key file name. */
export function isHashedName(name: string): boolean {
  return /^h[0-9a-f]{64}$/.test(name);
}
