import { open, type FileHandle } from "node:fs/promises";
import { resolve } from "node:path";
import { CarError } from "../../src/errors.ts";
import { resolveMaxRecordBytes } from "../../src/storage/records.ts";
import { ioError, readAt, writeAll } from "./fs-files.ts";
import { acquireFileLock } from "./fs-lock.ts";
import { scanLog } from "./fs-log-format.ts";

const COMPONENT = "storage:fs";

/** What `recoverAppendLog` did. */
export interface RecoverResult {
  path: string;
  /** Records kept. */
  records: number;
  /** Where the log was cut (the offset of the first bad record); undefined if it was intact. */
  truncatedAt: number | undefined;
  droppedBytes: number;
  /** The dropped bytes, kept beside the log for inspection; undefined if nothing was dropped. */
  savedTo: string | undefined;
  reason: string | undefined;
}

/**
 * Cuts an append log back to its last good record, after a `corrupted` error. Everything from the
 * first bad record on is copied to `<path>.corrupt-<offset>-<time>` and then removed from the log.
 * Takes the log's lock, so it refuses while a process has the log open. A file whose header is not
 * an append log's is refused, never truncated.
 */
export async function recoverAppendLog(path: string, options: { maxRecordBytes?: number } = {}): Promise<RecoverResult> {
  const abs = resolve(path);
  const max = resolveMaxRecordBytes(options.maxRecordBytes, COMPONENT);
  const lock = await acquireFileLock(`${abs}.lock`, COMPONENT, `append log ${abs}`);
  let fh: FileHandle | undefined;
  try {
    fh = await open(abs, "r+");
    const size = (await fh.stat()).size;
    if (size === 0) return { path: abs, records: 0, truncatedAt: undefined, droppedBytes: 0, savedTo: undefined, reason: undefined };
    const scan = await scanLog(fh, size, max);
    const result: RecoverResult = { path: abs, records: scan.records, truncatedAt: undefined, droppedBytes: 0, savedTo: undefined, reason: undefined };
    if (!scan.problem) return result;
    if (scan.problem.offset === 0) {
      throw new CarError("corrupted", COMPONENT, `${abs} is not a car append log (bad file header); nothing was changed`, { file: abs, offset: 0 });
    }
    const cut = scan.problem.offset;
    const savedTo = `${abs}.corrupt-${cut}-${Date.now()}`;
    await copyTail(fh, cut, size, savedTo);
    await fh.truncate(cut);
    await fh.sync();
    return { ...result, truncatedAt: cut, droppedBytes: size - cut, savedTo, reason: scan.problem.reason };
  } catch (err) {
    throw ioError(COMPONENT, "recovering", abs, err);
  } finally {
    await fh?.close().catch(() => {});
    await lock.release();
  }
}

async function copyTail(fh: FileHandle, from: number, to: number, dest: string): Promise<void> {
  const out = await open(dest, "wx", 0o600);
  try {
    for (let p = from; p < to; ) {
      const part = await readAt(fh, p, Math.min(1 << 20, to - p));
      if (part.length === 0) break;
      await writeAll(out, part, p - from);
      p += part.length;
    }
    await out.sync();
  } finally {
    await out.close();
  }
}
