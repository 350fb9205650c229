import { chmod, mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { unlinkSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The token file's name under `CAR_HOME`. */
export const TOKEN_FILE_NAME = "auth-token";

/** `$CAR_HOME/auth-token`. */
export function tokenFilePath(carHome: string): string {
  return join(carHome, TOKEN_FILE_NAME);
}

/**
 * Writes the daemon token with mode 0600 (owner read/write only), atomically: a temp file created
 * 0600 is renamed over the old one, so no reader ever sees a partial or world-readable token.
 */
export async function writeTokenFile(path: string, token: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${Date.now().toString(36)}${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(tmp, token, { mode: 0o600, flag: "wx" });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** Reads a token file, trimmed; undefined when absent or empty. */
export async function readTokenFile(path: string): Promise<string | undefined> {
  try {
    const t = (await readFile(path, "utf8")).trim();
    return t === "" ? undefined : t;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * Removes the token file if it still holds `token`, so a daemon stopping never deletes the token
 * of another daemon that started later with the same `CAR_HOME`. Synchronous: it also runs on a
 * forced exit.
 */
export function removeTokenFileSync(path: string, token: string): boolean {
  try {
    if (readFileSync(path, "utf8").trim() !== token) return false;
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}
