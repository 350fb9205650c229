import { realpath } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { CarError } from "../../src/errors.ts";

/** A path refused because it would leave the root. `details.reason` says how. */
export function escapeError(path: string, reason: "absolute" | "dotdot" | "symlink" | "invalid"): CarError {
  const why = {
    absolute: "absolute paths are not allowed; give a path relative to the root",
    dotdot: "it leaves the root through ..",
    symlink: "it resolves through a symbolic link to outside the root",
    invalid: "it is not a valid path",
  }[reason];
  return new CarError("invalid_input", "agent-basics", `path ${JSON.stringify(path)} rejected: ${why}`, { path, reason });
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/**
 * Resolves `path` (relative to `root`, which must already be a real path) to an absolute path
 * inside the root. Absolute paths, `..` that leaves the root, and symbolic links (of the target
 * or of any existing ancestor) that lead outside are refused. The target itself need not exist.
 */
export async function confine(root: string, path: unknown): Promise<string> {
  if (typeof path !== "string" || path.includes("\0")) throw escapeError(String(path), "invalid");
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path) || path.startsWith("\\")) throw escapeError(path, "absolute");
  const target = resolve(root, path === "" ? "." : path);
  if (!inside(root, target)) throw escapeError(path, "dotdot");
  // The deepest part of the path that exists decides where it really points.
  let probe = target;
  for (;;) {
    try {
      const real = await realpath(probe);
      if (!inside(root, real)) throw escapeError(path, "symlink");
      return probe === target ? real : resolve(real, relative(probe, target));
    } catch (err) {
      if (err instanceof CarError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw new CarError("tool_error", "agent-basics", `cannot resolve ${JSON.stringify(path)}: ${(err as Error).message}`);
      const parent = dirname(probe);
      if (parent === probe) throw escapeError(path, "invalid");
      probe = parent;
    }
  }
}
