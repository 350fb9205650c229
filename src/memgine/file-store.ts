import { CarError } from "../errors.ts";
import type { Storage } from "../storage/storage.ts";

/** Longest path accepted by `persist`/`load`. */
export const MAX_MEMORY_PATH_CHARS = 4096;

/** Why a path was refused (in `CarError.details.reason`). */
export type PathRejection = "empty" | "too_long" | "nul" | "dot_dot" | "absolute_outside" | "symlink_escape";

/** The error for a path that would leave the memory root. */
export function pathError(reason: PathRejection, path: string, why: string): CarError {
  return new CarError("invalid_input", "memgine:files", `memory path refused (${why}): ${JSON.stringify(path.slice(0, 200))}`, { reason, path: path.slice(0, 200) });
}

/**
 * Where `memory.persist` / `memory.load` files live: a root directory (`CAR_HOME/memory` on the
 * daemon) that no path may leave. The symlink check needs a file system, so the fs
 * implementation lives in adapters/memory/fs-file-store.ts; `storageFileStore` keeps files as
 * Storage entries (browsers, tests).
 */
export interface MemoryFileStore {
  /** Where `path` lands inside the root; throws a CarError (`invalid_input`) when it would escape. */
  resolveInside(path: string): Promise<string>;
  /** The text at `path`, or undefined when there is none. */
  readText(path: string): Promise<string | undefined>;
  /** Writes `text` at `path` atomically (a reader sees the old or the new file, never a mix). */
  writeText(path: string, text: string): Promise<void>;
}

/**
 * The lexical part of the sandbox, shared by every implementation: refuses NUL, `..` segments
 * and absolute paths outside `root`; returns the path's segments relative to the root.
 * Both `/` and `\` separate segments, and `C:`-style drive prefixes count as absolute.
 */
export function relativeSegments(path: string, root: string): string[] {
  if (typeof path !== "string" || path.length === 0) throw pathError("empty", String(path), "empty path");
  if (path.length > MAX_MEMORY_PATH_CHARS) throw pathError("too_long", path, `longer than ${MAX_MEMORY_PATH_CHARS} characters`);
  if (path.includes("\0")) throw pathError("nul", path, "contains NUL");
  const split = (p: string) => p.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
  const segments = split(path);
  if (segments.includes("..")) throw pathError("dot_dot", path, "contains ..");
  let rel = segments;
  if (isAbsolute(path)) {
    const rootSegs = split(root);
    const prefix = segments.slice(0, rootSegs.length);
    const caseless = /^[A-Za-z]:/.test(root);
    const same = prefix.length === rootSegs.length && prefix.every((s, i) => (caseless ? s.toLowerCase() === rootSegs[i]!.toLowerCase() : s === rootSegs[i]));
    if (!same) throw pathError("absolute_outside", path, "absolute path outside the memory directory");
    rel = segments.slice(rootSegs.length);
  }
  if (rel.length === 0) throw pathError("empty", path, "names the memory directory itself, not a file");
  return rel;
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || path.startsWith("\\") || /^[A-Za-z]:/.test(path);
}

/** Options of `storageFileStore`. */
export interface StorageFileStoreOptions {
  /** The root absolute paths are checked against. Default `/memory`. */
  root?: string;
  /** Key prefix of the files in the Storage. Default `memory-files/`. */
  keyPrefix?: string;
}

/** A MemoryFileStore keeping each file as one Storage entry (no symlinks exist there). */
export function storageFileStore(storage: Storage, options: StorageFileStoreOptions = {}): MemoryFileStore {
  const root = options.root ?? "/memory";
  const keyPrefix = options.keyPrefix ?? "memory-files/";
  const keyOf = (path: string) => keyPrefix + relativeSegments(path, root).join("/");
  return {
    async resolveInside(path) {
      return `${root.replace(/[\\/]+$/, "")}/${relativeSegments(path, root).join("/")}`;
    },
    async readText(path) {
      const v = await storage.get(keyOf(path));
      if (v === undefined) return undefined;
      if (typeof v !== "string") throw new CarError("corrupted", "memgine:files", `memory file ${path} is not text`);
      return v;
    },
    async writeText(path, text) {
      await storage.set(keyOf(path), text);
    },
  };
}
