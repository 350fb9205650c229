import { writeSync } from "node:fs";
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { CarError } from "../../src/errors.ts";
import { checkRecord, closedError, resolveMaxRecordBytes } from "../../src/storage/records.ts";
import { RwLock } from "../../src/storage/rw-lock.ts";
import type { AppendLog, LogRecord } from "../../src/storage/storage.ts";
import { fsyncDir, ioError, isErrno, tempName, writeAll, writeFileAtomic } from "./fs-files.ts";
import { acquireFileLock, type FileLock } from "./fs-lock.ts";
import { ChunkReader, encodeFrame, LOG_HEADER, readFrame, scanLog, type FrameProblem } from "./fs-log-format.ts";
import { copyBytes } from "../../src/storage/values.ts";

const COMPONENT = "storage:fs";
/** Most bytes one group commit writes before its fsync. */
const GROUP_COMMIT_BYTES = 16 * 1024 * 1024;
/** Largest group an unsynced log (`sync: false`) writes synchronously instead of through the thread pool. */
const SYNC_WRITE_MAX_BYTES = 64 * 1024;

/** Options of `createFsAppendLog`. */
export interface FsAppendLogOptions {
  /** The log file (created if missing); `<path>.lock` is its lock file. */
  path: string;
  /** Largest record accepted (default DEFAULT_MAX_RECORD_BYTES, 64 MiB); a longer frame on disk is corruption. */
  maxRecordBytes?: number;
  /**
   * `false`: an append resolves once written to the file, without its fdatasync. It then survives a
   * crash of this process (SIGKILL) but may be lost on an OS crash or power loss. Default `true`.
   */
  sync?: boolean;
  /** Told when opening cut off a torn tail (an append interrupted by a crash, never acknowledged). */
  onTornTail?: (info: { path: string; offset: number; droppedBytes: number; reason: string }) => void;
}

/** A problem at an offset, as the `corrupted` error every reader throws. */
export function corruptedAt(path: string, p: FrameProblem): CarError {
  return new CarError(
    "corrupted",
    COMPONENT,
    `append log ${path} is corrupted at offset ${p.offset}: ${p.reason}; recoverAppendLog(${JSON.stringify(path)}) cuts it back to the last good record`,
    { file: path, offset: p.offset, reason: p.reason },
  );
}

/**
 * A crash-safe AppendLog in one file (node:fs: Node, Bun, Deno). Each append is framed with its
 * length and checksums and fsynced before it resolves (concurrent appends share one fsync). On open
 * a torn tail is cut off; a bad record before the tail is a CarError `corrupted` naming file and offset.
 */
export async function createFsAppendLog(options: FsAppendLogOptions): Promise<AppendLog> {
  const path = resolve(options.path);
  const max = resolveMaxRecordBytes(options.maxRecordBytes, COMPONENT);
  await mkdir(dirname(path), { recursive: true }).catch((err: unknown) => Promise.reject(ioError(COMPONENT, "creating directory of", path, err)));
  const lock = await acquireFileLock(`${path}.lock`, COMPONENT, `append log ${path}`);
  let fh: FileHandle | undefined;
  try {
    await removeLeftovers(path);
    const size = await stat(path).then((s) => s.size, (err: unknown) => (isErrno(err, "ENOENT") ? 0 : Promise.reject(err)));
    if (size === 0) {
      await writeFileAtomic(`${path}.${tempName("create")}`, path, LOG_HEADER);
      await fsyncDir(dirname(path));
    }
    fh = await open(path, "r+");
    const actual = (await fh.stat()).size;
    const scan = await scanLog(fh, actual, max);
    if (scan.problem?.kind === "corrupt") throw corruptedAt(path, scan.problem);
    if (scan.problem) {
      await fh.truncate(scan.end);
      await fh.sync();
      options.onTornTail?.({ path, offset: scan.end, droppedBytes: actual - scan.end, reason: scan.problem.reason });
    }
    return new FsAppendLog(path, max, fh, scan.end, lock, options.sync !== false);
  } catch (err) {
    await fh?.close().catch(() => {});
    await lock.release();
    throw ioError(COMPONENT, "opening", path, err);
  }
}

/** Temp files of an interrupted create or compaction; only the lock holder may remove them. */
async function removeLeftovers(path: string): Promise<void> {
  const base = basename(path);
  for (const name of await readdir(dirname(path))) {
    if (name.startsWith(`${base}.create-`) || name.startsWith(`${base}.compact-`)) await unlink(join(dirname(path), name)).catch(() => {});
  }
}

interface Pending {
  frame: Uint8Array;
  resolve: (offset: number) => void;
  reject: (err: unknown) => void;
}

class FsAppendLog implements AppendLog {
  private readonly mutex = new RwLock();
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;
  private broken: CarError | undefined;
  private generation = 0;

  constructor(
    private readonly path: string,
    private readonly max: number,
    private fh: FileHandle,
    private end: number,
    private readonly lock: FileLock,
    private readonly sync: boolean,
  ) {}

  append(data: Uint8Array): Promise<number> {
    try {
      this.ready();
      checkRecord(data, this.max, COMPONENT);
    } catch (err) {
      return Promise.reject(err);
    }
    const frame = encodeFrame(data);
    return new Promise((resolve, reject) => {
      this.pending.push({ frame, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  async *read(offset = 0): AsyncIterable<LogRecord> {
    this.ready();
    const generation = this.generation;
    const reader = new ChunkReader(this.fh, 256 * 1024);
    let pos = Math.max(offset, LOG_HEADER.length);
    for (;;) {
      this.ready();
      if (this.generation !== generation) throw this.compactedDuringRead();
      const end = this.end;
      if (pos >= end) return;
      let r;
      try {
        r = await readFrame(reader, pos, end, this.max);
      } catch (err) {
        if (this.generation !== generation) throw this.compactedDuringRead();
        throw ioError(COMPONENT, "reading", this.path, err);
      }
      if (this.generation !== generation) throw this.compactedDuringRead();
      if ("kind" in r) throw corruptedAt(this.path, { ...r, reason: r.kind === "torn" ? "record extends past the committed end (not a record boundary?)" : r.reason });
      yield { offset: pos, next: r.next, data: copyBytes(r.data) };
      pos = r.next;
    }
  }

  compact(keep: (record: Uint8Array) => boolean): Promise<void> {
    this.ready();
    return this.mutex.write(async () => {
      this.ready();
      const tmp = `${this.path}.${tempName("compact")}`;
      const out = await open(tmp, "wx", 0o600);
      let outEnd = LOG_HEADER.length;
      try {
        await writeAll(out, LOG_HEADER, 0);
        const reader = new ChunkReader(this.fh);
        for (let pos = LOG_HEADER.length; pos < this.end; ) {
          const r = await readFrame(reader, pos, this.end, this.max);
          if ("kind" in r) throw corruptedAt(this.path, r);
          if (keep(copyBytes(r.data))) {
            const frame = encodeFrame(r.data);
            await writeAll(out, frame, outEnd);
            outEnd += frame.length;
          }
          pos = r.next;
        }
        await out.sync();
        await out.close();
      } catch (err) {
        await out.close().catch(() => {});
        await unlink(tmp).catch(() => {});
        throw ioError(COMPONENT, "compacting", this.path, err);
      }
      // Opened before the rename, so that no failure can leave this log appending to the replaced (unlinked) file.
      let next: FileHandle;
      try {
        next = await open(tmp, "r+");
      } catch (err) {
        await unlink(tmp).catch(() => {});
        throw ioError(COMPONENT, "compacting", this.path, err);
      }
      // From the rename on, the compacted file is the log; a crash before it leaves the old one.
      try {
        await rename(tmp, this.path);
      } catch (err) {
        await next.close().catch(() => {});
        await unlink(tmp).catch(() => {});
        throw ioError(COMPONENT, "compacting", this.path, err);
      }
      const old = this.fh;
      this.fh = next;
      this.end = outEnd;
      this.generation++;
      await old.close().catch(() => {});
      await fsyncDir(dirname(this.path)).catch((err: unknown) => Promise.reject(ioError(COMPONENT, "compacting", this.path, err)));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    await this.mutex.write(async () => {});
    let failed: unknown;
    // Without per-append syncs, a clean close still leaves everything on disk.
    if (!this.sync && !this.broken) await this.dataSync().catch((err: unknown) => (failed = ioError(COMPONENT, "syncing", this.path, err)));
    await this.fh.close().catch(() => {});
    await this.lock.release();
    if (failed) throw failed;
  }

  private dataSync(): Promise<void> {
    return typeof this.fh.datasync === "function" ? this.fh.datasync() : this.fh.sync();
  }

  private ready(): void {
    if (this.closed) throw closedError(COMPONENT);
    if (this.broken) throw this.broken;
  }

  private compactedDuringRead(): CarError {
    return new CarError("conflict", COMPONENT, `append log ${this.path} was compacted during a read; offsets changed, read again from 0`);
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        let bytes = 0;
        let n = 0;
        while (n < this.pending.length && (n === 0 || bytes + this.pending[n]!.frame.length <= GROUP_COMMIT_BYTES)) bytes += this.pending[n++]!.frame.length;
        const group = this.pending.splice(0, n);
        await this.mutex.write(() => this.commit(group, bytes));
      }
    } catch (err) {
      this.pending.splice(0).forEach((item) => item.reject(err));
    } finally {
      this.flushing = undefined;
    }
  }

  /** Writes a group of frames at the end, fsyncs once (unless `sync` is off), then acknowledges each with its offset. */
  private async commit(group: Pending[], bytes: number): Promise<void> {
    if (this.broken) return group.forEach((p) => p.reject(this.broken));
    const buf = new Uint8Array(bytes);
    const offsets: number[] = [];
    let p = 0;
    for (const item of group) {
      offsets.push(this.end + p);
      buf.set(item.frame, p);
      p += item.frame.length;
    }
    try {
      // Unsynced small groups go straight to the page cache: a thread-pool round trip would cost more than the write.
      if (!this.sync && bytes <= SYNC_WRITE_MAX_BYTES) writeAllSync(this.fh.fd, buf, this.end);
      else await writeAll(this.fh, buf, this.end);
      if (this.sync) await this.dataSync();
    } catch (err) {
      const e = ioError(COMPONENT, "appending to", this.path, err);
      // Cut a partial write back off, or later appends would sit behind garbage.
      try {
        await this.fh.truncate(this.end);
        await this.fh.sync();
      } catch {
        this.broken = new CarError("storage_error", COMPONENT, `append log ${this.path} failed and could not be repaired (${e.message}); reopen it`, { file: this.path }, { cause: err });
      }
      return group.forEach((item) => item.reject(e));
    }
    this.end += bytes;
    group.forEach((item, i) => item.resolve(offsets[i]!));
  }
}

/** writeAll for a small buffer, without leaving the event loop. */
function writeAllSync(fd: number, data: Uint8Array, position: number): void {
  for (let done = 0; done < data.length; ) {
    const n = writeSync(fd, data, done, data.length - done, position + done);
    if (n <= 0) throw new Error("write made no progress");
    done += n;
  }
}
