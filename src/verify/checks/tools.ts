import type { Action } from "../../ir/action.ts";
import type { ToolSchemaInput } from "../../ir/tool-schema.ts";
import { checkParams } from "../param-schema.ts";
import { listSome, outcome, report, type CheckOutcome } from "./outcome.ts";

/** Unknown tools and JSON Schema parameter violations (only where tools, resp. schemas, are given). */
export function toolChecks(actions: readonly Action[], tools: readonly ToolSchemaInput[] | undefined, maxErrors: number): CheckOutcome[] {
  const known = outcome("unknown_tool", "decision_procedure", "every tool_call names a registered tool", tools !== undefined);
  const params = outcome("param_schema", "decision_procedure", "tool_call parameters satisfy the tool's JSON Schema (`parameters`)", false);
  if (tools === undefined) {
    known.cannot_verify.push("no tools were given");
    params.cannot_verify.push("no tools were given");
    return [known, params];
  }
  const byName = new Map<string, ToolSchemaInput>();
  for (const t of tools) byName.set(t.name, t);
  const registered = listSome([...byName.keys()].sort(), 20) || "none";
  let calls = 0;
  let checked = 0;
  const unschemed = new Set<string>();
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    if (a.type !== "tool_call") continue;
    calls++;
    const tool = byName.get(a.tool!);
    if (!tool) {
      report(known, i, a.id, "error", `unknown tool "${a.tool}" (registered: ${registered})`);
      continue;
    }
    if (!tool.parameters) {
      unschemed.add(tool.name);
      continue;
    }
    params.ran = true;
    checked++;
    const r = checkParams(tool.parameters, a.parameters);
    if ("unusable" in r) {
      report(params, i, a.id, "warning", `parameters not checked: the schema of tool "${tool.name}" is unusable (${r.unusable})`);
      continue;
    }
    if (r.ok) continue;
    for (const v of r.violations.slice(0, maxErrors)) report(params, i, a.id, "error", `parameters violate the schema of tool "${tool.name}": ${v}`);
    if (r.violations.length > maxErrors) report(params, i, a.id, "error", `… and ${r.violations.length - maxErrors} more schema violations`);
  }
  params.coverage = calls === 0 ? (params.ran ? 1 : 0) : checked / calls;
  if (!params.ran && calls > 0) params.cannot_verify.push("no tool used by the proposal has a parameters schema");
  if (unschemed.size > 0) params.cannot_verify.push(`tools without a parameters schema: ${listSome([...unschemed].sort())}`);
  params.cannot_verify.push("values given by $<id>.output references (known only at run time)");
  return [known, params];
}
