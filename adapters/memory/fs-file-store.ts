import { constants } from "node:fs";
import { mkdir, open, realpath, rename, rm } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { CarError } from "../../src/errors.ts";
import { pathError, relativeSegments, type MemoryFileStore } from "../../src/memgine/file-store.ts";

/** Options of `createFsMemoryFileStore`. */
export interface FsMemoryFileStoreOptions {
  /** The memory directory (`$CAR_HOME/memory` on the daemon); created when missing. */
  root: string;
}

/**
 * persist/load files on the real file system, confined to `root`: the lexical checks of
 * `relativeSegments` (NUL, `..`, absolute paths elsewhere), then the real path of the deepest
 * existing ancestor must lie inside the root's real path, so a symlink cannot lead out.
 * Reads open the resolved real path with O_NOFOLLOW; writes go to a temp file in the same
 * directory and are renamed over the target (rename replaces a symlink, never follows it).
 * A process that can write inside the root could still swap a directory for a symlink between
 * the check and the open; the root is meant to be writable by the daemon's user only.
 */
export function createFsMemoryFileStore(options: FsMemoryFileStoreOptions): MemoryFileStore {
  const root = resolve(options.root);
  let realRoot: Promise<string> | undefined;
  const getRealRoot = () =>
    (realRoot ??= (async () => {
      await mkdir(root, { recursive: true, mode: 0o700 });
      return realpath(root);
    })().catch((err: unknown) => {
      realRoot = undefined;
      throw new CarError("storage_error", "memgine:files", `cannot open memory directory ${root}: ${(err as Error).message}`, undefined, { cause: err });
    }));

  const inside = (real: string, base: string) => {
    const rel = relative(base, real);
    return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
  };

  async function resolveInside(path: string): Promise<string> {
    const base = await getRealRoot();
    // Absolute paths may name the root as given or as its real path (e.g. /tmp vs /private/tmp).
    let segments: string[];
    try {
      segments = relativeSegments(path, root);
    } catch (err) {
      if (base === root) throw err;
      segments = relativeSegments(path, base);
    }
    const target = join(base, ...segments);
    let probe = target;
    const missing: string[] = [];
    for (;;) {
      try {
        const real = await realpath(probe);
        if (!inside(real, base)) throw pathError("symlink_escape", path, "a symlink leads outside the memory directory");
        return missing.length === 0 ? real : join(real, ...missing.reverse());
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        if (dirname(probe) === probe) throw err;
        missing.push(basename(probe));
        probe = dirname(probe);
      }
    }
  }

  return {
    resolveInside,
    async readText(path) {
      const real = await resolveInside(path);
      let handle;
      try {
        handle = await open(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return undefined;
        if (code === "ELOOP") throw pathError("symlink_escape", path, "the file became a symlink");
        throw new CarError("storage_error", "memgine:files", `cannot read ${path}: ${(err as Error).message}`, undefined, { cause: err });
      }
      try {
        return await handle.readFile({ encoding: "utf8" });
      } finally {
        await handle.close();
      }
    },
    async writeText(path, text) {
      const real = await resolveInside(path);
      await mkdir(dirname(real), { recursive: true, mode: 0o700 });
      // The directories just created must still be inside (nothing raced a symlink in).
      await resolveInside(path);
      const tmp = join(dirname(real), `.${randomBytes(6).toString("hex")}.tmp`);
      try {
        const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        try {
          await handle.writeFile(text, "utf8");
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(tmp, real);
      } catch (err) {
        await rm(tmp, { force: true });
        if (err instanceof CarError) throw err;
        throw new CarError("storage_error", "memgine:files", `cannot write ${path}: ${(err as Error).message}`, undefined, { cause: err });
      }
    },
  };
}
