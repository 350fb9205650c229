import { readdir, readFile } from "node:fs/promises";
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
