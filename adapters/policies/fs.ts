import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { CarError } from "../../src/errors.ts";
import type { PolicyEngine } from "../../src/policies/policy-engine.ts";
import { parsePolicyFile } from "../../src/policies/policy-file.ts";

/**
 * Loads every `*.toml` and `*.json` file of `dir` into `engine`, in sorted filename order
 * (reference §4.2). A malformed file throws, naming file and line, and then nothing is loaded;
 * a missing directory loads nothing. Returns the loaded file names.
 */
export async function loadPolicyDir(engine: PolicyEngine, dir: string, options: { scope?: string } = {}): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.(toml|json)$/i.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new CarError("storage_error", "policies:fs", `cannot read policy directory ${dir}: ${(err as Error).message}`);
  }
  // Parse everything first so that one bad file loads nothing at all.
  const texts = await Promise.all(names.map((n) => readFile(join(dir, n), "utf8")));
  names.forEach((n, i) => parsePolicyFile(texts[i]!, { source: n }));
  for (let i = 0; i < names.length; i++) engine.loadFile(texts[i]!, { source: names[i]!, ...(options.scope !== undefined ? { scope: options.scope } : {}) });
  return names;
}

/** Loads one policy file from disk; its name in errors and `list()` is the path given. */
export async function loadPolicyFile(engine: PolicyEngine, path: string, options: { scope?: string } = {}): Promise<string> {
  const text = await readFile(path, "utf8").catch((err: Error) => {
    throw new CarError("not_found", "policies:fs", `cannot read policy file ${path}: ${err.message}`);
  });
  return engine.loadFile(text, { source: path, ...(options.scope !== undefined ? { scope: options.scope } : {}) }).registered;
}

/** A policy file's path and text, validated (see `readPolicySources`). */
export interface PolicyFileText {
  source: string;
  text: string;
}

const POLICY_FILE = /\.(toml|json)$/i;

/**
 * Reads policy files for loading later (the daemon loads them into every session): each path is
 * a file, or a directory whose `*.toml`/`*.json` files are taken in sorted filename order. Every
 * file is parsed here, so a malformed one throws — naming `path:line` — before anything is used.
 * A missing path throws unless it is marked `optional` (e.g. the default `$CAR_HOME/policies`).
 * Sources are the full paths.
 */
export async function readPolicySources(paths: ReadonlyArray<string | { path: string; optional?: boolean }>): Promise<PolicyFileText[]> {
  const files: string[] = [];
  for (const entry of paths) {
    const { path, optional = false } = typeof entry === "string" ? { path: entry } : entry;
    let isDir: boolean;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && optional) continue;
      throw new CarError("not_found", "policies:fs", `cannot read policy path ${path}: ${(err as Error).message}`);
    }
    if (!isDir) {
      files.push(path);
      continue;
    }
    const names = await readdir(path).catch((err: Error) => {
      throw new CarError("storage_error", "policies:fs", `cannot read policy directory ${path}: ${err.message}`);
    });
    files.push(...names.filter((n) => POLICY_FILE.test(n)).sort().map((n) => join(path, n)));
  }
  const out: PolicyFileText[] = [];
  for (const file of files) {
    const text = await readFile(file, "utf8").catch((err: Error) => {
      throw new CarError("not_found", "policies:fs", `cannot read policy file ${file}: ${err.message}`);
    });
    parsePolicyFile(text, { source: file });
    out.push({ source: file, text });
  }
  return out;
}
