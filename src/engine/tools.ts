import { ToolSchemaSchema, type ToolSchema, type ToolSchemaInput } from "../ir/tool-schema.ts";
import { parseWith } from "../ir/parse.ts";

/** Everything a tool invocation gets. */
export interface ToolCall {
  tool: string;
  parameters: Record<string, unknown>;
  action_id: string;
  proposal_id: string;
  /** 1-based; increments on each retry. */
  attempt: number;
  timeout_ms?: number;
  /** Fires on timeout, on cancellation and when the proposal aborts; `reason` says which. */
  signal: AbortSignal;
  /**
   * Calls `fn` when `signal` would fire (at once if it has), without making the AbortSignal:
   * executors that only need to hear about the abort use it. Returns a function that unregisters
   * `fn`. Absent on calls made outside the engine; use `signal` then.
   */
  onAbort?(fn: (reason: unknown) => void): () => void;
}

/** A tool's implementation: returns the output (any JSON value) or throws. */
export type ToolHandler = (parameters: Record<string, unknown>, call: ToolCall) => unknown | Promise<unknown>;

/**
 * Executes tools that have no in-process handler (the daemon plugs in one that calls the
 * client back over the wire).
 */
export interface ToolExecutor {
  execute(call: ToolCall): Promise<unknown>;
}

/** Registered tool schemas and their handlers. */
export class ToolRegistry {
  private tools = new Map<string, { schema: ToolSchema; handler: ToolHandler | undefined }>();

  /** Registers (or replaces) a tool; without a handler, calls go to the runtime's ToolExecutor. */
  register(schema: ToolSchemaInput, handler?: ToolHandler): ToolSchema {
    const parsed = parseWith(ToolSchemaSchema, schema, "tool schema", "tools");
    this.tools.set(parsed.name, { schema: parsed, handler });
    return parsed;
  }

  /** Returns whether the tool was registered. */
  unregister(name: string): boolean {
    return this.tools.delete(name);
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  schema(name: string): ToolSchema | undefined {
    return this.tools.get(name)?.schema;
  }

  handler(name: string): ToolHandler | undefined {
    return this.tools.get(name)?.handler;
  }

  /** All schemas, sorted by name. */
  schemas(): ToolSchema[] {
    return [...this.tools.values()].map((t) => t.schema).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  names(): string[] {
    return this.schemas().map((s) => s.name);
  }
}
