/** A model folder on the local file system (node:fs works on Node, Bun and Deno). */
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CarError } from "../../src/errors.ts";
import type { ModelFiles } from "./webgpu/model-files.ts";

/** Reads files of the folder `dir`. Names with path separators or `..` are refused. */
export function fsModelFiles(dir: string): ModelFiles {
  const root = resolve(dir);
  return {
    location: `${root}/`,
    async read(name, options = {}) {
      if (name.includes("..") || name.startsWith("/")) throw new CarError("invalid_input", "inference:files", `bad file name ${name}`);
      const p = join(root, name);
      try {
        const size = (await stat(p)).size;
        const buf = await readFile(p, options.signal ? { signal: options.signal } : {});
        options.onProgress?.(size, size);
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (err) {
        if ((err as { code?: string }).code === "ENOENT") return undefined;
        throw new CarError("storage_error", "inference:files", `cannot read ${p}: ${(err as Error).message}`);
      }
    },
  };
}
