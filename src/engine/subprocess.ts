import { z } from "zod";
import { CarError, TimeoutError, ValidationError } from "../errors.ts";
import { parseWith } from "../ir/parse.ts";
import { RateLimitSchema, type ToolSchemaInput } from "../ir/tool-schema.ts";
import type { ToolHandler } from "./tools.ts";

/** One program run: an argv array (never a shell string) and its limits. */
export interface SubprocessSpec {
  /** Program and arguments; `argv[0]` is looked up on the child's PATH unless absolute. */
  argv: string[];
  cwd?: string;
  /** Names of host environment variables the child may see (nothing else is inherited). */
  envAllow?: string[];
  /** Variables set for the child on top of the allowed ones. */
  env?: Record<string, string>;
  /** Written to the child's stdin, which is then closed (closed at once when absent). */
  stdin?: string;
  /** The child (and its children) are killed after this many ms. */
  timeoutMs: number;
  /** Bytes of stdout kept; the rest is read and dropped. */
  maxStdoutBytes: number;
  /** Bytes of stderr kept; the rest is read and dropped. */
  maxStderrBytes: number;
  /** Aborting kills the child (and its children) and rejects with a CanceledError. */
  signal?: AbortSignal;
}

/** What a finished (or killed-on-timeout) program left. */
export interface SubprocessResult {
  exit_code: number | null;
  /** The signal that ended it (e.g. `SIGKILL` after a timeout), else null. */
  signal: string | null;
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  timed_out: boolean;
  duration_ms: number;
}

/** Runs programs; implemented per platform in adapters/ (node:child_process works on Node, Bun and Deno). */
export interface SubprocessRunner {
  run(spec: SubprocessSpec): Promise<SubprocessResult>;
}

/**
 * A tool backed by a program. Each `argv` element may hold `{param}` placeholders, replaced by
 * that parameter's text (strings verbatim, other values as JSON) inside that one element — values
 * never split into several arguments and no shell ever sees them. `{{` and `}}` are literal braces.
 */
export const SubprocessToolSchema = z.object({
  name: z.string().min(1),
  description: z.string().default(""),
  parameters: z.record(z.string(), z.unknown()).optional(),
  argv: z.array(z.string()).min(1),
  cwd: z.string().optional(),
  env_allow: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  /** Parameter whose text is written to stdin. */
  stdin_param: z.string().optional(),
  timeout_ms: z.number().int().positive().default(30_000),
  max_stdout_bytes: z.number().int().nonnegative().default(1_048_576),
  max_stderr_bytes: z.number().int().nonnegative().default(65_536),
  /** A non-zero exit fails the action (default); otherwise it is part of the output. */
  fail_on_nonzero: z.boolean().default(true),
  idempotent: z.boolean().default(false),
  cache_ttl_secs: z.number().nonnegative().optional(),
  rate_limit: RateLimitSchema.optional(),
});
export type SubprocessToolDefinition = z.infer<typeof SubprocessToolSchema>;
export type SubprocessToolInput = z.input<typeof SubprocessToolSchema>;

const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Builds the argv of one call from the template; a missing parameter is a ValidationError. */
export function expandArgv(template: readonly string[], params: Record<string, unknown>): string[] {
  return template.map((arg, i) =>
    arg.replace(PLACEHOLDER, (m, name: string | undefined) => {
      if (m === "{{") return "{";
      if (m === "}}") return "}";
      const v = params[name!];
      if (v === undefined || v === null) throw new ValidationError("subprocess", "tool call", [{ path: `parameters.${name}`, message: `required by argv[${i}]` }]);
      return typeof v === "string" ? v : JSON.stringify(v);
    }),
  );
}

/** The tool schema and handler of a subprocess tool; register both with `rt.registerTool`. */
export function subprocessTool(input: SubprocessToolInput, runner: SubprocessRunner): { schema: ToolSchemaInput; handler: ToolHandler } {
  const def = parseWith(SubprocessToolSchema, input, "subprocess tool", "subprocess");
  const schema: ToolSchemaInput = {
    name: def.name,
    description: def.description,
    idempotent: def.idempotent,
    source: "subprocess",
    ...(def.parameters ? { parameters: def.parameters } : {}),
    ...(def.cache_ttl_secs !== undefined ? { cache_ttl_secs: def.cache_ttl_secs } : {}),
    ...(def.rate_limit ? { rate_limit: def.rate_limit } : {}),
  };
  const handler: ToolHandler = async (params, call) => {
    const stdin = def.stdin_param !== undefined ? params[def.stdin_param] : undefined;
    const res = await runner.run({
      argv: expandArgv(def.argv, params),
      envAllow: def.env_allow,
      env: def.env,
      timeoutMs: def.timeout_ms,
      maxStdoutBytes: def.max_stdout_bytes,
      maxStderrBytes: def.max_stderr_bytes,
      signal: call.signal,
      ...(def.cwd !== undefined ? { cwd: def.cwd } : {}),
      ...(stdin !== undefined && stdin !== null ? { stdin: typeof stdin === "string" ? stdin : JSON.stringify(stdin) } : {}),
    });
    if (res.timed_out) throw new TimeoutError("subprocess", `${def.name} (${def.argv[0]})`, def.timeout_ms);
    const output = { exit_code: res.exit_code, stdout: res.stdout, stderr: res.stderr, stdout_truncated: res.stdout_truncated, stderr_truncated: res.stderr_truncated };
    if (def.fail_on_nonzero && res.exit_code !== 0) {
      const why = res.exit_code === null ? `was killed by ${res.signal}` : `exited with code ${res.exit_code}`;
      throw new CarError("tool_error", "subprocess", `${def.name} ${why}${res.stderr ? `: ${res.stderr.slice(-500)}` : ""}`, { exit_code: res.exit_code });
    }
    return output;
  };
  return { schema, handler };
}
