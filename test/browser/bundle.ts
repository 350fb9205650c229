/**
 * Bundles entry points for the browser with esbuild and reports anything Node-only they reach:
 * imports of Node built-ins from our own files, and Node globals (process, Buffer, …) in them.
 */
import { isBuiltin } from "node:module";
import { readFile } from "node:fs/promises";
import { relative, resolve } from "node:path";
import * as esbuild from "esbuild";

export const ROOT = resolve(import.meta.dirname, "../..");

/** Globals that exist on Node (or Deno, Bun) and not in a browser. */
export const NODE_GLOBALS = ["process", "Buffer", "require", "module", "__dirname", "__filename", "global", "setImmediate", "clearImmediate", "Deno", "Bun"] as const;

export interface BrowserBundle {
  /** Output files by name (`page.js`, chunk files…). */
  files: Map<string, string>;
  metafile: esbuild.Metafile;
  /** Imports of Node built-ins from our files (`importer` relative to the repository). */
  nodeImports: Array<{ importer: string; path: string }>;
  /** esbuild's errors (a package reaching a built-in it does not map away for browsers lands here). */
  errors: string[];
}

export interface BundleOptions {
  /** Module specifiers to replace by files (e.g. `node:test` → a browser shim in a test page). */
  shims?: Record<string, string>;
  /** Inline a global definition (esbuild `define`). */
  define?: Record<string, string>;
}

const isOwn = (path: string) => !/(^|[\\/])node_modules[\\/]/.test(path);

/** Bundles `entries` (output name → source path) as ES modules for `platform: "browser"`, with code splitting. */
export async function bundleForBrowser(entries: Record<string, string>, options: BundleOptions = {}): Promise<BrowserBundle> {
  const nodeImports: BrowserBundle["nodeImports"] = [];
  const shims = options.shims ?? {};
  const guard: esbuild.Plugin = {
    name: "node-guard",
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        const shim = shims[args.path];
        if (shim) return { path: shim };
        if (isBuiltin(args.path) && isOwn(args.importer)) {
          nodeImports.push({ importer: relative(ROOT, args.importer), path: args.path });
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: entries,
      bundle: true,
      platform: "browser",
      format: "esm",
      splitting: true,
      target: "es2022",
      outdir: "/virtual",
      absWorkingDir: ROOT,
      write: false,
      metafile: true,
      logLevel: "silent",
      plugins: [guard],
      ...(options.define ? { define: options.define } : {}),
    });
  } catch (err) {
    const errors = (err as { errors?: esbuild.Message[] }).errors ?? [];
    if (errors.length === 0) throw err;
    return { files: new Map(), metafile: { inputs: {}, outputs: {} }, nodeImports, errors: errors.map(formatMessage) };
  }
  const files = new Map(result.outputFiles.map((f) => [relative("/virtual", f.path), f.text]));
  return { files, metafile: result.metafile, nodeImports, errors: result.errors.map(formatMessage) };
}

function formatMessage(m: esbuild.Message): string {
  return m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text;
}

/** Our own source files among a bundle's inputs (repository-relative). */
export function ownInputs(meta: esbuild.Metafile): string[] {
  return Object.keys(meta.inputs).filter((p) => isOwn(p) && !p.startsWith("<")).map((p) => relative(ROOT, resolve(ROOT, p))).sort();
}

/**
 * The Node globals each file uses: every file is compiled on its own with each global (and
 * `globalThis.<global>`) defined as a marker, so only real references are found (not comments,
 * strings or local bindings of the same name).
 */
export async function nodeGlobalsIn(paths: readonly string[]): Promise<Array<{ file: string; globals: string[] }>> {
  const define: Record<string, string> = {};
  for (const g of NODE_GLOBALS) {
    define[g] = `__NODE_GLOBAL_${g}__`;
    define[`globalThis.${g}`] = `__NODE_GLOBAL_${g}__`;
  }
  const out: Array<{ file: string; globals: string[] }> = [];
  for (const path of paths) {
    const source = await readFile(resolve(ROOT, path), "utf8");
    const { code } = await esbuild.transform(source, { loader: path.endsWith(".ts") ? "ts" : "js", define, format: "esm" });
    const found = NODE_GLOBALS.filter((g) => code.includes(`__NODE_GLOBAL_${g}__`));
    if (found.length > 0) out.push({ file: path, globals: found });
  }
  return out;
}
