import { mkdir, open, readdir, readFile, rm, stat, unlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { systemClock, type Clock } from "../../src/engine/clock.ts";
import { CarError } from "../../src/errors.ts";
import { checkKey, checkPrefix, compareKeys, MAX_KEY_BYTES } from "../../src/storage/keys.ts";
import { closedError } from "../../src/storage/records.ts";
import { RwLock } from "../../src/storage/rw-lock.ts";
import type { BatchOp, CompareAndSetOptions, Storage, StorageValue } from "../../src/storage/storage.ts";
import { checkCompareAndSet, checkValue, decodeValue, encodeValue, valuesEqual } from "../../src/storage/values.ts";
import { decodeBatch, encodeBatch, type PreparedOp } from "./fs-batch.ts";
import { fsyncDir, ioError, isErrno, readAt, tempName, writeFileAtomic } from "./fs-files.ts";
import { isHashedName, keyToName, nameToKey } from "./fs-key-names.ts";
import { acquireFileLock, type FileLock } from "./fs-lock.ts";
import { decodeValueHeader, encodeValueFile, VALUE_HEADER_BYTES, valueOf } from "./fs-value-file.ts";

const COMPONENT = "storage:fs";
const FORMAT = "car-fs-storage 1\n";

/** Options of `createFsStorage`. */
export interface FsStorageOptions {
  /** Directory owned by this store (created if missing): `data/`, `tmp/`, `LOCK`, `FORMAT`, `BATCH`. */
  root: string;
  /** Decides when compareAndSet TTLs run out (default: the system clock). */
  clock?: Clock;
}

interface Entry {
  name: string;
  expiresAt: number | undefined;
}

/**
 * A crash-safe Storage in a directory, for Node, Bun and Deno (node:fs). One file per key, replaced
 * atomically (temp file, fsync, rename, fsync of the directory); multi-key batches go through an
 * intent file replayed on open; a lock file keeps other processes out. Resolves once recovered and locked.
 */
export async function createFsStorage(options: FsStorageOptions): Promise<Storage> {
  const root = resolve(options.root);
  const clock = options.clock ?? systemClock;
  const dataDir = join(root, "data");
  const tmpDir = join(root, "tmp");
  const batchFile = join(root, "BATCH");
  try {
    await mkdir(dataDir, { recursive: true });
    await mkdir(tmpDir, { recursive: true });
  } catch (err) {
    throw ioError(COMPONENT, "creating", root, err);
  }
  const lock = await acquireFileLock(join(root, "LOCK"), COMPONENT, `storage ${root}`);
  let index: Map<string, Entry>;
  try {
    await checkFormat(root);
    await rm(tmpDir, { recursive: true, force: true });
    await mkdir(tmpDir, { recursive: true });
    await replayBatch(batchFile, dataDir, tmpDir, root);
    index = await scan(dataDir, clock.now());
  } catch (err) {
    await lock.release();
    throw ioError(COMPONENT, "opening", root, err);
  }
  return new FsStorage(root, dataDir, tmpDir, batchFile, clock, lock, index);
}

async function checkFormat(root: string): Promise<void> {
  const file = join(root, "FORMAT");
  const found = await readFile(file, "utf8").catch((err: unknown) => (isErrno(err, "ENOENT") ? undefined : Promise.reject(err)));
  if (found === undefined) {
    await writeFileAtomic(join(root, "tmp", tempName()), file, new TextEncoder().encode(FORMAT));
    await fsyncDir(root);
  } else if (found !== FORMAT) {
    throw new CarError("unsupported", COMPONENT, `${root} holds format ${JSON.stringify(found.trim())}; this build reads ${JSON.stringify(FORMAT.trim())}`, { file });
  }
}

/** Writes every op's file (sets atomically, deletes by unlink), then one fsync of the directory. */
async function applyOps(ops: readonly PreparedOp[], dataDir: string, tmpDir: string, expiresAt: number | undefined): Promise<void> {
  for (const op of ops) {
    const target = join(dataDir, keyToName(op.key));
    if (op.value) await writeFileAtomic(join(tmpDir, tempName()), target, encodeValueFile(op.key, op.value, expiresAt));
    else await unlink(target).catch((err: unknown) => (isErrno(err, "ENOENT") ? undefined : Promise.reject(err)));
  }
  await fsyncDir(dataDir);
}

async function replayBatch(batchFile: string, dataDir: string, tmpDir: string, root: string): Promise<void> {
  let buf: Uint8Array;
  try {
    buf = await readFile(batchFile);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return;
    throw err;
  }
  // A batch was interrupted after its intent became durable: finish it (every op is idempotent).
  await applyOps(decodeBatch(buf, batchFile, COMPONENT), dataDir, tmpDir, undefined);
  await unlink(batchFile);
  await fsyncDir(root);
}

async function scan(dataDir: string, now: number): Promise<Map<string, Entry>> {
  const names = (await readdir(dataDir)).filter((n) => n.startsWith("k") || isHashedName(n));
  const index = new Map<string, Entry>();
  let expired = 0;
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      const file = join(dataDir, name);
      const fh = await open(file, "r");
      let head: Uint8Array;
      let size: number;
      try {
        size = (await fh.stat()).size;
        head = await readAt(fh, 0, Math.min(size, VALUE_HEADER_BYTES + 4 * MAX_KEY_BYTES));
      } finally {
        await fh.close();
      }
      const header = decodeValueHeader(head, size, file, COMPONENT);
      const expect = nameToKey(name);
      if (expect !== undefined ? expect !== header.key : keyToName(header.key) !== name) {
        throw new CarError("corrupted", COMPONENT, `value file ${file} holds key ${JSON.stringify(header.key)}, which does not belong to this name; delete the file to recover`, { file, offset: VALUE_HEADER_BYTES });
      }
      if (header.expiresAt !== undefined && header.expiresAt <= now) {
        await unlink(file);
        expired++;
      } else index.set(header.key, { name, expiresAt: header.expiresAt });
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, names.length) }, worker));
  if (expired > 0) await fsyncDir(dataDir);
  return index;
}

class FsStorage implements Storage {
  private readonly rw = new RwLock();
  private closed = false;
  private broken: CarError | undefined;

  constructor(
    private readonly root: string,
    private readonly dataDir: string,
    private readonly tmpDir: string,
    private readonly batchFile: string,
    private readonly clock: Clock,
    private readonly lock: FileLock,
    private readonly index: Map<string, Entry>,
  ) {}

  async get(key: string): Promise<StorageValue | undefined> {
    this.ready();
    checkKey(key, COMPONENT);
    return this.rw.read(() => this.readLive(key));
  }

  async set(key: string, value: StorageValue): Promise<void> {
    this.ready();
    checkKey(key, COMPONENT);
    checkValue(value, COMPONENT);
    const bytes = encodeValue(value);
    await this.rw.write(() => this.guard("set", () => this.apply([{ key, value: bytes }], undefined)));
  }

  async delete(key: string): Promise<boolean> {
    this.ready();
    checkKey(key, COMPONENT);
    return this.rw.write(() =>
      this.guard("delete", async () => {
        const existed = this.live(key) !== undefined;
        if (this.index.has(key)) await this.apply([{ key, value: undefined }], undefined);
        return existed;
      }),
    );
  }

  async has(key: string): Promise<boolean> {
    this.ready();
    checkKey(key, COMPONENT);
    return this.rw.read(async () => this.live(key) !== undefined);
  }

  async list(prefix = ""): Promise<string[]> {
    this.ready();
    checkPrefix(prefix, COMPONENT);
    return this.rw.read(async () => [...this.index.keys()].filter((k) => k.startsWith(prefix) && this.live(k)).sort(compareKeys));
  }

  async batch(ops: BatchOp[]): Promise<void> {
    this.ready();
    if (!Array.isArray(ops)) throw new CarError("invalid_input", COMPONENT, "batch ops must be an array");
    const prepared: PreparedOp[] = ops.map((op) => {
      checkKey(op?.key, COMPONENT);
      if (op.op === "delete") return { key: op.key, value: undefined };
      if (op.op !== "set") throw new CarError("invalid_input", COMPONENT, `unknown batch op ${JSON.stringify((op as { op?: unknown }).op)}`);
      checkValue(op.value, COMPONENT);
      return { key: op.key, value: encodeValue(op.value) };
    });
    if (prepared.length === 0) return;
    await this.rw.write(() => this.guard("batch", () => this.apply(prepared, undefined)));
  }

  async compareAndSet(key: string, expected: StorageValue | undefined, value: StorageValue, options?: CompareAndSetOptions): Promise<boolean> {
    this.ready();
    checkCompareAndSet(key, expected, value, options?.ttlMs, COMPONENT);
    const bytes = encodeValue(value);
    return this.rw.write(() =>
      this.guard("compareAndSet", async () => {
        if (!valuesEqual(await this.readLive(key), expected)) return false;
        const ttl = options?.ttlMs;
        await this.apply([{ key, value: bytes }], ttl !== undefined ? this.clock.now() + ttl : undefined);
        return true;
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Wait for operations in flight, then let the next process in.
    await this.rw.write(async () => {});
    await this.lock.release();
  }

  private ready(): void {
    if (this.closed) throw closedError(COMPONENT);
    if (this.broken) throw this.broken;
  }

  private live(key: string): Entry | undefined {
    const e = this.index.get(key);
    return e && (e.expiresAt === undefined || e.expiresAt > this.clock.now()) ? e : undefined;
  }

  private async readLive(key: string): Promise<StorageValue | undefined> {
    if (this.broken) throw this.broken;
    const e = this.live(key);
    if (!e) return undefined;
    const file = join(this.dataDir, e.name);
    let buf: Uint8Array;
    try {
      buf = await readFile(file);
    } catch (err) {
      throw ioError(COMPONENT, "reading", file, err);
    }
    const header = decodeValueHeader(buf, buf.length, file, COMPONENT);
    if (header.key !== key) {
      throw new CarError("corrupted", COMPONENT, `value file ${file} holds key ${JSON.stringify(header.key)}, not ${JSON.stringify(key)}`, { file, offset: VALUE_HEADER_BYTES });
    }
    return decodeValue(valueOf(buf, header, file, COMPONENT), { component: COMPONENT, file, offset: header.valueStart, key });
  }

  /** One op is a single atomic file replace; several go through the batch intent file. */
  private async apply(ops: PreparedOp[], expiresAt: number | undefined): Promise<void> {
    if (ops.length > 1) {
      await writeFileAtomic(join(this.tmpDir, tempName()), this.batchFile, encodeBatch(ops));
      await fsyncDir(this.root);
    }
    await applyOps(ops, this.dataDir, this.tmpDir, expiresAt);
    if (ops.length > 1) {
      await unlink(this.batchFile);
      await fsyncDir(this.root);
    }
    for (const op of ops) {
      if (op.value) this.index.set(op.key, { name: keyToName(op.key), expiresAt });
      else this.index.delete(op.key);
    }
  }

  /**
   * Runs a write. If it fails after the batch intent became durable, disk and index may disagree
   * until the intent is replayed, so the store refuses further use until reopened.
   */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    // Not ready(): operations issued before close() still run; close() waits for them.
    if (this.broken) throw this.broken;
    try {
      return await fn();
    } catch (err) {
      const wrapped = ioError(COMPONENT, what, this.root, err);
      if (await exists(this.batchFile)) {
        this.broken = new CarError("storage_error", COMPONENT, `a batch failed midway (${wrapped.message}); close and reopen ${this.root} to finish it`, { root: this.root }, { cause: err });
      }
      throw wrapped;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
