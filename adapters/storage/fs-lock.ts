import { hostname } from "node:os";
import { resolve } from "node:path";
import { link, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { CarError } from "../../src/errors.ts";
import { isErrno, tempName } from "./fs-files.ts";

/** An exclusive lock on a file path, held by this process until `release`. */
export interface FileLock {
  readonly path: string;
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  hostname: string;
  acquired_at?: string;
  token?: string;
}

// Lock files this process holds: a lock naming our own pid that is not here was left by an
// earlier process that had the same pid (common for pid 1 in containers), so it is stale.
const heldHere = new Set<string>();

/**
 * Takes the lock file at `path` (created atomically with a hard link, holding pid, host and a
 * token). A lock whose process is gone (same host) is stale and taken over; a live one gives a
 * CarError `locked` naming its pid.
 */
export async function acquireFileLock(path: string, component: string, what: string): Promise<FileLock> {
  const abs = resolve(path);
  const me: Holder = { pid: process.pid, hostname: hostname(), acquired_at: new Date().toISOString(), token: crypto.randomUUID() };
  const content = JSON.stringify(me) + "\n";
  for (let attempt = 0; attempt < 8; attempt++) {
    if (await tryCreate(abs, content)) {
      heldHere.add(abs);
      return { path: abs, release: () => release(abs, content) };
    }
    let raw: string;
    try {
      raw = await readFile(abs, "utf8");
    } catch (err) {
      if (isErrno(err, "ENOENT")) continue; // released meanwhile: try again
      throw err;
    }
    const holder = parseHolder(raw);
    const where = `${what} is locked by`;
    const details = { lock_file: abs, pid: holder?.pid, hostname: holder?.hostname };
    if (!holder) {
      throw new CarError("locked", component, `${what} is locked: lock file ${abs} is unreadable; if no process uses it, delete the lock file`, details);
    }
    if (holder.hostname !== me.hostname) {
      throw new CarError("locked", component, `${where} pid ${holder.pid} on host ${holder.hostname} (lock file ${abs}); if that process is gone, delete the lock file`, details);
    }
    if (holder.pid === process.pid && heldHere.has(abs)) {
      throw new CarError("locked", component, `${where} this process (pid ${holder.pid}); close the other instance first`, details);
    }
    if (holder.pid !== process.pid && isAlive(holder.pid)) {
      throw new CarError("locked", component, `${where} pid ${holder.pid} (lock file ${abs}); stop that process or use another directory`, details);
    }
    await breakStale(abs, raw);
  }
  throw new CarError("locked", component, `${what}: could not take lock file ${abs} (contended)`, { lock_file: abs });
}

async function tryCreate(abs: string, content: string): Promise<boolean> {
  // Write the content first and link it into place, so a lock file is never seen half-written.
  const tmp = `${abs}.${tempName("new")}`;
  try {
    // Inside the try: a write that fails midway (disk full) must not leave the temp file behind.
    await writeFile(tmp, content, { mode: 0o600 });
    await link(tmp, abs);
    return true;
  } catch (err) {
    if (isErrno(err, "EEXIST")) return false;
    if (!isErrno(err, "EPERM", "ENOTSUP", "ENOSYS", "EXDEV", "EOPNOTSUPP")) throw err;
    // No hard links on this file system: exclusive create is the next best thing.
    try {
      await writeFile(abs, content, { flag: "wx", mode: 0o600 });
      return true;
    } catch (err2) {
      if (isErrno(err2, "EEXIST")) return false;
      throw err2;
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function breakStale(abs: string, staleContent: string): Promise<void> {
  // Move it aside atomically; if what we moved is not the stale lock we judged (another process
  // broke it and took a fresh one meanwhile), put that one back.
  const aside = `${abs}.${tempName("stale")}`;
  try {
    await rename(abs, aside);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return;
    throw err;
  }
  const moved = await readFile(aside, "utf8").catch(() => "");
  if (moved !== staleContent) await link(aside, abs).catch(() => {});
  await unlink(aside).catch(() => {});
}

async function release(abs: string, content: string): Promise<void> {
  heldHere.delete(abs);
  const now = await readFile(abs, "utf8").catch(() => undefined);
  if (now === content) await unlink(abs).catch(() => {});
}

function parseHolder(raw: string): Holder | undefined {
  try {
    const h = JSON.parse(raw) as Partial<Holder>;
    if (typeof h.pid === "number" && Number.isInteger(h.pid) && h.pid > 0 && typeof h.hostname === "string") return h as Holder;
  } catch {
    // fall through
  }
  return undefined;
}

/** Whether a process with this pid exists (signal 0 checks without signalling; EPERM means it exists). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isErrno(err, "ESRCH");
  }
}
