import { lstat, mkdir, open, readdir, realpath, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { CarError } from "../../src/errors.ts";
import type { ToolHandler } from "../../src/engine/tools.ts";
import type { ToolSchemaInput } from "../../src/ir/tool-schema.ts";
import { confine } from "./confine-path.ts";

/** Options of `registerAgentBasics`. Every limit is named here with its default. */
export interface AgentBasicsOptions {
  /** The directory the tools are confined to (must exist). */
  root: string;
  /** Most bytes `read_file` returns per call (default 1 MiB). */
  maxReadBytes?: number;
  /** Most bytes `write_file` accepts (default 10 MiB). */
  maxWriteBytes?: number;
  /** Most entries `list_dir` returns (default 1,000). */
  maxListEntries?: number;
  /** Most matches `search_text` returns (default 100). */
  maxSearchResults?: number;
  /** Files larger than this are skipped by `search_text` (default 1 MiB). */
  maxSearchFileBytes?: number;
  /** Most files `search_text` looks at per call (default 10,000). */
  maxSearchFiles?: number;
}

/** Anything tools can be registered on (a Runtime). */
export interface ToolHost {
  registerTool(schema: ToolSchemaInput, handler?: ToolHandler): unknown;
}

const str = (p: Record<string, unknown>, k: string, fallback?: string): string => {
  const v = p[k] ?? fallback;
  if (typeof v !== "string") throw new CarError("invalid_input", "agent-basics", `parameter ${k} must be a string`);
  return v;
};

/**
 * Registers `read_file`, `write_file`, `list_dir` and `search_text`, confined to `root`: `..`,
 * absolute paths and symbolic links that lead outside are rejected with a clear error.
 */
export async function registerAgentBasics(host: ToolHost, options: AgentBasicsOptions): Promise<void> {
  let root: string;
  try {
    root = await realpath(options.root);
    if (!(await stat(root)).isDirectory()) throw new Error("not a directory");
  } catch (err) {
    throw new CarError("invalid_input", "agent-basics", `root ${JSON.stringify(options.root)} is not an existing directory: ${(err as Error).message}`);
  }
  const maxRead = options.maxReadBytes ?? 1 << 20;
  const maxWrite = options.maxWriteBytes ?? 10 << 20;
  const maxList = options.maxListEntries ?? 1000;
  const maxResults = options.maxSearchResults ?? 100;
  const maxSearchFile = options.maxSearchFileBytes ?? 1 << 20;
  const maxFiles = options.maxSearchFiles ?? 10_000;
  const rel = (abs: string) => relative(root, abs).split(sep).join("/") || ".";

  host.registerTool(
    { name: "read_file", description: "Read a UTF-8 text file under the root", parameters: { type: "object", required: ["path"], properties: { path: { type: "string" }, offset: { type: "integer" } } }, source: "builtin" },
    async (p) => {
      const path = await confine(root, str(p, "path"));
      const offset = typeof p["offset"] === "number" && p["offset"] >= 0 ? Math.floor(p["offset"]) : 0;
      const fh = await open(path, "r").catch((e: NodeJS.ErrnoException) => {
        throw new CarError(e.code === "ENOENT" ? "not_found" : "tool_error", "agent-basics", `cannot read ${rel(path)}: ${e.code ?? e.message}`);
      });
      try {
        const size = (await fh.stat()).size;
        const buf = Buffer.alloc(Math.max(0, Math.min(maxRead, size - offset)));
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        return { path: rel(path), content: new TextDecoder().decode(buf.subarray(0, bytesRead)), size, offset, truncated: offset + bytesRead < size };
      } finally {
        await fh.close();
      }
    },
  );

  host.registerTool(
    { name: "write_file", description: "Write a UTF-8 text file under the root (parent directories are created)", parameters: { type: "object", required: ["path", "content"], properties: { path: { type: "string" }, content: { type: "string" } } }, source: "builtin" },
    async (p) => {
      const path = await confine(root, str(p, "path"));
      const content = str(p, "content");
      const bytes = new TextEncoder().encode(content);
      if (bytes.length > maxWrite) throw new CarError("invalid_input", "agent-basics", `content is ${bytes.length} bytes; maxWriteBytes is ${maxWrite}`);
      if (path === root) throw new CarError("invalid_input", "agent-basics", "cannot write to the root directory itself");
      await mkdir(dirname(path), { recursive: true });
      // Re-check after creating parents, then write beside and rename so readers never see half a file.
      const again = await confine(root, relative(root, path));
      const tmp = `${again}.tmp-${process.pid}-${Date.now()}`;
      await writeFile(tmp, bytes, { flag: "wx" });
      await rename(tmp, again);
      return { path: rel(again), bytes: bytes.length };
    },
  );

  host.registerTool(
    { name: "list_dir", description: "List a directory under the root", parameters: { type: "object", properties: { path: { type: "string" } } }, source: "builtin" },
    async (p) => {
      const path = await confine(root, str(p, "path", "."));
      const dirents = await readdir(path, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
        throw new CarError(e.code === "ENOENT" ? "not_found" : "tool_error", "agent-basics", `cannot list ${rel(path)}: ${e.code ?? e.message}`);
      });
      dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const entries = [];
      for (const d of dirents.slice(0, maxList)) {
        const type = d.isSymbolicLink() ? "symlink" : d.isDirectory() ? "dir" : d.isFile() ? "file" : "other";
        const size = type === "file" ? (await lstat(join(path, d.name))).size : 0;
        entries.push({ name: d.name, type, size });
      }
      return { path: rel(path), entries, truncated: dirents.length > maxList };
    },
  );

  host.registerTool(
    { name: "search_text", description: "Find lines containing a text under a directory of the root", parameters: { type: "object", required: ["query"], properties: { query: { type: "string" }, path: { type: "string" } } }, source: "builtin" },
    async (p, call) => {
      const query = str(p, "query");
      if (query === "") throw new CarError("invalid_input", "agent-basics", "query must not be empty");
      const start = await confine(root, str(p, "path", "."));
      const matches: Array<{ path: string; line: number; text: string }> = [];
      let files = 0;
      let truncated = false;
      const stack = [start];
      while (stack.length > 0 && !truncated) {
        if (call.signal.aborted) throw call.signal.reason;
        const dir = stack.pop()!;
        const st = await lstat(dir);
        const list = st.isDirectory() ? (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1)).map((d) => ({ d, abs: join(dir, d.name) })) : [{ d: null, abs: dir }];
        const subdirs: string[] = [];
        for (const { d, abs } of list) {
          // Symbolic links are never followed: they could lead outside the root.
          if (d?.isSymbolicLink()) continue;
          if (d?.isDirectory()) {
            subdirs.push(abs);
            continue;
          }
          if (++files > maxFiles) {
            truncated = true;
            break;
          }
          const s = await lstat(abs);
          if (!s.isFile() || s.size > maxSearchFile) continue;
          const fh = await open(abs, "r");
          let text: string;
          try {
            const buf = await fh.readFile();
            if (buf.includes(0)) continue; // binary
            text = new TextDecoder().decode(buf);
          } finally {
            await fh.close();
          }
          const lines = text.split("\n");
          for (let i = 0; i < lines.length; i++) {
            if (!lines[i]!.includes(query)) continue;
            if (matches.length >= maxResults) {
              truncated = true;
              break;
            }
            matches.push({ path: rel(abs), line: i + 1, text: lines[i]!.slice(0, 500) });
          }
          if (truncated) break;
        }
        stack.push(...subdirs.reverse()); // depth-first, in name order
      }
      return { matches, truncated };
    },
  );
}
