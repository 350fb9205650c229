import { open, rename, unlink } from "node:fs/promises";
import { CarError } from "../../src/errors.ts";

/** Whether `err` is a Node-style system error with this `code`. */
export function isErrno(err: unknown, ...codes: string[]): boolean {
  return typeof err === "object" && err !== null && codes.includes(String((err as { code?: unknown }).code));
}

/**
 * Makes a rename or unlink in `dir` durable. Platforms that cannot open a directory for fsync
 * (Windows, some network file systems) answer EISDIR/EPERM/EINVAL/ENOTSUP: nothing more can be done there.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch (err) {
    if (!isErrno(err, "EISDIR", "EPERM", "EINVAL", "ENOTSUP", "EBADF", "EACCES")) throw err;
  } finally {
    await fh?.close();
  }
}

let tmpCounter = 0;

/** A temp-file name unique within this process and across processes sharing `dir`. */
export function tempName(prefix = "tmp"): string {
  return `${prefix}-${process.pid}-${++tmpCounter}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Replaces `target` atomically: writes `tmpPath`, fsyncs it, renames it over `target`. Readers
 * (and a crash) see the old file or the new one, never a mix. The caller fsyncs the directory,
 * once for a whole batch of renames.
 */
export async function writeFileAtomic(tmpPath: string, target: string, data: Uint8Array): Promise<void> {
  const fh = await open(tmpPath, "wx", 0o600);
  try {
    await writeAll(fh, data, 0);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmpPath).catch(() => {});
    throw err;
  }
  await fh.close();
  try {
    await rename(tmpPath, target);
  } catch (err) {
    await unlink(tmpPath).catch(() => {});
    throw err;
  }
}

/** Writes every byte of `data` at `position` (a single write call may write less). */
export async function writeAll(fh: { write(b: Uint8Array, o: number, l: number, p: number): Promise<{ bytesWritten: number }> }, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw new Error("write made no progress");
    done += bytesWritten;
  }
}

/** Reads exactly `length` bytes at `position`, or fewer only at end of file. */
export async function readAt(fh: { read(b: Uint8Array, o: number, l: number, p: number): Promise<{ bytesRead: number }> }, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/** Wraps an unexpected I/O failure as a CarError naming the component and the path. */
export function ioError(component: string, what: string, path: string, err: unknown): CarError {
  if (err instanceof CarError) return err;
  const code = typeof err === "object" && err !== null ? String((err as { code?: unknown }).code ?? "") : "";
  const msg = err instanceof Error ? err.message : String(err);
  return new CarError("storage_error", component, `${what} ${path} failed: ${msg}`, { path, errno: code || undefined }, { cause: err });
}
