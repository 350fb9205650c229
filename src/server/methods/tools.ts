import { z } from "zod";
import { ToolSchemaSchema, type ToolSchema } from "../../ir/tool-schema.ts";
import { method, type ServerMethodTable } from "../context.ts";

/** `tools.register` takes an array of tool schemas (reference §1.7); `{tools: [...]}` is accepted too. */
export const ToolsRegisterParams = z.union([z.array(ToolSchemaSchema), z.object({ tools: z.array(ToolSchemaSchema) })]);
export type ToolsRegisterParams = z.input<typeof ToolsRegisterParams>;

export const ToolsUnregisterParams = z.object({ name: z.string().min(1) });
export type ToolsUnregisterParams = z.input<typeof ToolsUnregisterParams>;

export interface ToolsListResult {
  tools: ToolSchema[];
  count: number;
}

export interface ToolsUnregisterResult {
  unregistered: string;
  /** 1 when the tool existed, 0 otherwise (not an error). */
  removed: 0 | 1;
}

/** `tools.register|list|unregister`: the session's tools, run through `tools.execute` callbacks. */
export const toolMethods: ServerMethodTable = {
  "tools.register": method(ToolsRegisterParams, (p, { session }): number => {
    const tools = Array.isArray(p) ? p : p.tools;
    for (const t of tools) session.runtime.registerTool(t);
    return tools.length;
  }),
  "tools.list": method(z.object({}), (_p, { session }): ToolsListResult => {
    const tools = session.runtime.toolSchemas();
    return { tools, count: tools.length };
  }),
  "tools.unregister": method(ToolsUnregisterParams, (p, { session }): ToolsUnregisterResult => ({
    unregistered: p.name,
    removed: session.runtime.unregisterTool(p.name) ? 1 : 0,
  })),
};
