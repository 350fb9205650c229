import { CarError } from "../../src/errors.ts";
import { crc32 } from "../../src/storage/crc32.ts";
import { copyBytes } from "../../src/storage/values.ts";

/**
 * The intent file of a multi-key batch (`<root>/BATCH`): written atomically before any value file
 * changes, removed after all of them changed, replayed on open if present. Layout: magic "CARB",
 * version (1), 3 reserved bytes, op count (u32), ops, CRC-32 of everything before it. An op is a
 * kind byte (1 set, 2 delete), key length (u32), key, and for a set value length (u32) and value.
 */
export interface PreparedOp {
  key: string;
  /** The encoded value of a set; undefined for a delete. */
  value: Uint8Array | undefined;
}

const MAGIC = [0x43, 0x41, 0x52, 0x42];
const VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The bytes of a batch intent file for `ops`. */
export function encodeBatch(ops: readonly PreparedOp[]): Uint8Array {
  const keys = ops.map((op) => encoder.encode(op.key));
  let size = 12 + 4;
  ops.forEach((op, i) => (size += 5 + keys[i]!.length + (op.value ? 4 + op.value.length : 0)));
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = VERSION;
  dv.setUint32(8, ops.length, true);
  let p = 12;
  ops.forEach((op, i) => {
    const k = keys[i]!;
    out[p] = op.value ? 1 : 2;
    dv.setUint32(p + 1, k.length, true);
    out.set(k, p + 5);
    p += 5 + k.length;
    if (op.value) {
      dv.setUint32(p, op.value.length, true);
      out.set(op.value, p + 4);
      p += 4 + op.value.length;
    }
  });
  dv.setUint32(p, crc32(out.subarray(0, p)), true);
  return out;
}

/** Parses a batch intent file; anything malformed is `corrupted`, naming the file and offset. */
export function decodeBatch(buf: Uint8Array, file: string, component: string): PreparedOp[] {
  const bad = (offset: number, why: string) =>
    new CarError("corrupted", component, `batch intent ${file} is corrupted at offset ${offset}: ${why}; delete it to recover (the interrupted batch may then be partly applied)`, { file, offset });
  if (buf.length < 16) throw bad(0, "file is too short");
  if (MAGIC.some((b, i) => buf[i] !== b)) throw bad(0, "not a car batch file");
  if (buf[4] !== VERSION) throw bad(4, `unsupported format version ${String(buf[4])}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = buf.length - 4;
  if (crc32(buf.subarray(0, end)) !== dv.getUint32(end, true)) throw bad(end, "checksum mismatch");
  const count = dv.getUint32(8, true);
  const ops: PreparedOp[] = [];
  let p = 12;
  const take = (n: number) => {
    if (p + n > end) throw bad(p, "op extends past the end");
    const s = buf.subarray(p, p + n);
    p += n;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const at = p;
    const kind = take(1)[0];
    const klen = dv.getUint32(take(4).byteOffset - buf.byteOffset, true);
    const key = decoder.decode(take(klen));
    if (kind === 2) ops.push({ key, value: undefined });
    else if (kind === 1) {
      const vlen = dv.getUint32(take(4).byteOffset - buf.byteOffset, true);
      ops.push({ key, value: copyBytes(take(vlen)) });
    } else throw bad(at, `unknown op kind ${String(kind)}`);
  }
  if (p !== end) throw bad(p, "trailing bytes after the last op");
  return ops;
}
