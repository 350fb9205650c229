import { crc32 } from "../../src/storage/crc32.ts";
import { readAt } from "./fs-files.ts";

/**
 * Append-log file layout: an 8-byte file header "CARLOG\0" + version (1), then records, each
 *   0 data length (u32 LE) · 4 CRC-32 of the data · 8 CRC-32 of bytes 0..8 · 12 data
 * The header checksum lets a bad length be told from a torn tail; the data checksum catches the rest.
 */
export const LOG_HEADER = new Uint8Array([0x43, 0x41, 0x52, 0x4c, 0x4f, 0x47, 0x00, 0x01]);
export const RECORD_HEADER_BYTES = 12;

/** The frame of one record: its header followed by the data. */
export function encodeFrame(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length, true);
  dv.setUint32(4, crc32(data), true);
  dv.setUint32(8, crc32(out.subarray(0, 8)), true);
  out.set(data, RECORD_HEADER_BYTES);
  return out;
}

type Handle = Parameters<typeof readAt>[0];

/** Positional reads through a window buffer, so scanning many small records costs few syscalls. */
export class ChunkReader {
  private start = 0;
  private buf: Uint8Array = new Uint8Array(0);
  constructor(
    private readonly fh: Handle,
    private readonly chunk = 1 << 20,
  ) {}

  /** `len` bytes at `pos`, reading no further than `limit`; shorter only when `limit` cuts it. */
  async get(pos: number, len: number, limit: number): Promise<Uint8Array> {
    if (pos >= this.start && pos + len <= this.start + this.buf.length) return this.buf.subarray(pos - this.start, pos - this.start + len);
    if (len > this.chunk) return readAt(this.fh, pos, Math.max(0, Math.min(len, limit - pos)));
    this.start = pos;
    this.buf = await readAt(this.fh, pos, Math.max(0, Math.min(this.chunk, limit - pos)));
    return this.buf.subarray(0, Math.min(len, this.buf.length));
  }
}

/** Why a record at some offset is not valid. `torn`: an interrupted append at the tail, safe to cut. */
export interface FrameProblem {
  offset: number;
  kind: "torn" | "corrupt";
  reason: string;
}

/** A valid record, or why there is none at `pos`. `end` is the log's size (records never extend past it). */
export async function readFrame(
  reader: ChunkReader,
  pos: number,
  end: number,
  maxRecordBytes: number,
): Promise<{ data: Uint8Array; next: number } | FrameProblem> {
  if (end - pos < RECORD_HEADER_BYTES) return { offset: pos, kind: "torn", reason: "incomplete record header at the end" };
  const head = await reader.get(pos, RECORD_HEADER_BYTES, end);
  if (head.length < RECORD_HEADER_BYTES) return { offset: pos, kind: "torn", reason: "file is shorter than expected" };
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const len = dv.getUint32(0, true);
  if (crc32(head.subarray(0, 8)) !== dv.getUint32(8, true)) {
    if (await allZero(reader, pos, end)) return { offset: pos, kind: "torn", reason: "zero-filled tail" };
    return { offset: pos, kind: "corrupt", reason: "record header checksum mismatch (or not a record boundary)" };
  }
  if (len > maxRecordBytes) return { offset: pos, kind: "corrupt", reason: `record length ${len} exceeds maxRecordBytes ${maxRecordBytes}` };
  const next = pos + RECORD_HEADER_BYTES + len;
  if (next > end) return { offset: pos, kind: "torn", reason: "record extends past the end of the file" };
  const data = await reader.get(pos + RECORD_HEADER_BYTES, len, end);
  if (crc32(data) !== dv.getUint32(4, true)) {
    // The last record of the file may be an append that was cut short by power loss.
    if (next === end) return { offset: pos, kind: "torn", reason: "last record's checksum mismatch" };
    return { offset: pos, kind: "corrupt", reason: "record checksum mismatch" };
  }
  return { data, next };
}

async function allZero(reader: ChunkReader, from: number, end: number): Promise<boolean> {
  for (let p = from; p < end; ) {
    const part = await reader.get(p, Math.min(1 << 20, end - p), end);
    if (part.length === 0) return true;
    for (const b of part) if (b !== 0) return false;
    p += part.length;
  }
  return true;
}

/** Walks the whole log: where valid records end, how many there are, and the first problem if any. */
export async function scanLog(fh: Handle, size: number, maxRecordBytes: number): Promise<{ end: number; records: number; problem?: FrameProblem }> {
  const reader = new ChunkReader(fh);
  const head = await reader.get(0, LOG_HEADER.length, size);
  if (head.length < LOG_HEADER.length || LOG_HEADER.some((b, i) => head[i] !== b)) {
    return { end: 0, records: 0, problem: { offset: 0, kind: "corrupt", reason: "not a car append log (bad file header)" } };
  }
  let pos = LOG_HEADER.length;
  let records = 0;
  while (pos < size) {
    const r = await readFrame(reader, pos, size, maxRecordBytes);
    if ("kind" in r) return { end: pos, records, problem: r };
    pos = r.next;
    records++;
  }
  return { end: pos, records };
}
