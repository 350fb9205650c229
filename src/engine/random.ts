/** Source of chance. Ids and sampling come from one, so runs can be replayed. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
}

/** Bytes drawn from the system generator at once: one `getRandomValues` call costs as much as thousands of bytes. */
const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let poolAt = 0;

/** Cryptographically random bytes, served from a pool refilled by `crypto.getRandomValues`; every byte is handed out once. */
function systemBytes(n: number): Uint8Array {
  if (n > POOL_BYTES / 4) return crypto.getRandomValues(new Uint8Array(n));
  if (poolAt + n > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(POOL_BYTES));
    poolAt = 0;
  }
  const out = pool.slice(poolAt, poolAt + n);
  // Served bytes are zeroed so the pool never holds a copy of an id or token already handed out.
  pool.fill(0, poolAt, poolAt + n);
  poolAt += n;
  return out;
}

/** Cryptographic randomness from `crypto.getRandomValues`. */
export const systemRandom: Random = {
  next: () => {
    const b = systemBytes(4);
    return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) / 2 ** 32;
  },
  bytes: systemBytes,
};

/** A deterministic generator (SplitMix32 over a 32-bit state) for tests and replay. */
export class SeededRandom implements Random {
  private state: number;
  constructor(seed = 42) {
    this.state = seed >>> 0;
  }
  private u32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  next(): number {
    return this.u32() / 2 ** 32;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const hex = (b: Uint8Array) => {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
};

/** A version-4 UUID drawn from `random`. */
export function uuidFrom(random: Random): string {
  const b = random.bytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `n` hex characters drawn from `random` (proposal ids use 12). */
export function hexId(random: Random, n = 12): string {
  return hex(random.bytes(Math.ceil(n / 2))).slice(0, n);
}
