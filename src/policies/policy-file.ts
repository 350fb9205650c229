import { parse as parseToml, TomlError } from "smol-toml";
import { CarError, ValidationError } from "../errors.ts";
import { formatPath } from "../ir/parse.ts";
import { PolicyFileSchema, type PolicyFileRules } from "./file-rules.ts";

/** Options of `parsePolicyFile`. */
export interface PolicyFileOptions {
  /** Names the file in errors and in `list()` (e.g. `10-deny.toml`). */
  source: string;
  /** Default: from the source's extension (`.json` → json, otherwise toml). */
  format?: "toml" | "json";
}

/**
 * Parses the text of one policy file (TOML or JSON). Anything malformed — bad syntax, an
 * unknown key, a wrong type, a `trace_rule` — throws a ValidationError naming the file and line.
 */
export function parsePolicyFile(text: string, options: PolicyFileOptions): PolicyFileRules {
  const format = options.format ?? (options.source.toLowerCase().endsWith(".json") ? "json" : "toml");
  const raw = format === "json" ? parseJson(text, options.source) : parseTomlText(text, options.source);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) fail(options.source, 1, "(root)", "a policy file must be a table/object of rules");
  if (Object.prototype.hasOwnProperty.call(raw, "trace_rule")) {
    fail(options.source, locate(text, format, ["trace_rule"]), "trace_rule", "trace_rule is not enforceable yet; refusing to load the file");
  }
  const res = PolicyFileSchema.safeParse(raw);
  if (res.success) return res.data;
  const issues = res.error.issues.map((i) => {
    // An unknown key is reported at its parent; point at the key itself.
    const path = i.code === "unrecognized_keys" && i.keys.length > 0 ? [...i.path, i.keys[0]!] : i.path;
    return { path: `${options.source}:${locate(text, format, path)}: ${formatPath(path)}`, message: i.message };
  });
  throw new ValidationError("policies", `policy file ${options.source}`, issues);
}

function fail(source: string, line: number, path: string, message: string): never {
  throw new ValidationError("policies", `policy file ${source}`, [{ path: `${source}:${line}: ${path}`, message }]);
}

function parseTomlText(text: string, source: string): unknown {
  try {
    return parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) fail(source, err.line, "(syntax)", err.message.split("\n")[0] ?? "invalid TOML");
    throw new CarError("invalid_input", "policies", `policy file ${source}: ${(err as Error).message}`);
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const lineMatch = /line (\d+)/.exec(msg);
    const line = lineMatch ? Number(lineMatch[1]) : pos ? text.slice(0, Number(pos[1])).split("\n").length : 1;
    fail(source, line, "(syntax)", msg);
  }
}

/** Best-effort line of the entry a schema issue points at (1-based). */
function locate(text: string, format: "toml" | "json", path: ReadonlyArray<PropertyKey>): number {
  const lines = text.split("\n");
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const find = (re: RegExp, from = 0, to = lines.length) => {
    for (let i = from; i < to; i++) if (re.test(lines[i]!)) return i;
    return -1;
  };
  const top = path[0];
  if (typeof top !== "string") return 1;
  if (format === "json") {
    const i = find(new RegExp(`"${esc(top)}"\\s*:`));
    return i < 0 ? 1 : i + 1;
  }
  const index = path[1];
  if (typeof index === "number") {
    // The index-th `[[top]]` header, then the field inside that block.
    const header = new RegExp(`^\\s*\\[\\[\\s*${esc(top)}\\s*\\]\\]`);
    let at = -1;
    for (let n = 0, from = 0; n <= index; n++) {
      at = find(header, from);
      if (at < 0) break;
      from = at + 1;
    }
    if (at >= 0) {
      const end = find(/^\s*\[/, at + 1);
      const field = path[2];
      if (typeof field === "string") {
        const f = find(new RegExp(`^\\s*${esc(field)}\\s*=`), at + 1, end < 0 ? lines.length : end);
        if (f >= 0) return f + 1;
      }
      return at + 1;
    }
  }
  const i = find(new RegExp(`^\\s*(\\[\\[?\\s*)?${esc(top)}\\b`));
  return i < 0 ? 1 : i + 1;
}
