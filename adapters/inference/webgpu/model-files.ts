/** Reading a model folder's files: a small interface so the backend stays platform-free. */
import { CarError, CanceledError } from "../../../src/errors.ts";
import { reasonOf } from "../../../src/engine/clock.ts";

/** A model folder, local or remote. */
export interface ModelFiles {
  /** Where the folder is (for messages). */
  readonly location: string;
  /** A file's bytes, or undefined when the folder has no such file. */
  read(name: string, options?: { signal?: AbortSignal; onProgress?: (loaded: number, total: number | null) => void }): Promise<Uint8Array | undefined>;
}

/** A model folder served over http(s): `base` is the folder's URL. */
export function httpModelFiles(base: string, fetchImpl: typeof fetch = fetch): ModelFiles {
  const root = base.endsWith("/") ? base : `${base}/`;
  return {
    location: root,
    async read(name, options = {}) {
      const url = new URL(name, root).toString();
      let res: Response;
      try {
        res = await fetchImpl(url, options.signal ? { signal: options.signal } : {});
      } catch (err) {
        if (options.signal?.aborted) throw new CanceledError("inference:files", reasonOf(options.signal));
        throw new CarError("not_found", "inference:files", `cannot fetch ${url}: ${(err as Error).message}`);
      }
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new CarError("not_found", "inference:files", `cannot fetch ${url}: HTTP ${res.status}`);
      }
      const len = Number(res.headers.get("content-length") ?? NaN);
      const total = Number.isFinite(len) ? len : null;
      if (!res.body) return new Uint8Array(await res.arrayBuffer());
      const chunks: Uint8Array[] = [];
      let loaded = 0;
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.byteLength;
        options.onProgress?.(loaded, total);
      }
      if (chunks.length === 1) return chunks[0]!;
      const out = new Uint8Array(loaded);
      let p = 0;
      for (const c of chunks) {
        out.set(c, p);
        p += c.byteLength;
      }
      return out;
    },
  };
}

/** Reads a required JSON file of the folder. */
export async function readJson(files: ModelFiles, name: string, signal?: AbortSignal): Promise<unknown> {
  const bytes = await files.read(name, signal ? { signal } : {});
  if (!bytes) throw new CarError("not_found", "inference:files", `${files.location}: missing ${name}`);
  return parseJsonFile(files, name, bytes);
}

/** Reads an optional JSON file (undefined when absent). */
export async function readOptionalJson(files: ModelFiles, name: string, signal?: AbortSignal): Promise<unknown> {
  const bytes = await files.read(name, signal ? { signal } : {});
  if (!bytes) return undefined;
  return parseJsonFile(files, name, bytes);
}

function parseJsonFile(files: ModelFiles, name: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new CarError("invalid_input", "inference:files", `${files.location}${name}: not JSON (${(err as Error).message})`);
  }
}
