import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { jsonEqual } from "../engine/canonical-json.ts";
import { parseWith } from "../ir/parse.ts";
import { hasParam, stringifyParam, toolOf, violation, type PolicyRule } from "./rule.ts";

export const REGISTERED_RULE_KINDS = ["deny_tool", "deny_tool_param", "require_state"] as const;

/**
 * A registered policy (reference §4.1, wire `policy.register`). `deny_tool` needs `target`;
 * `deny_tool_param` needs `key` and `pattern` (`target` limits it to one tool); `require_state`
 * needs `key` and `value` (any JSON) or `value_json` (JSON text).
 */
export const PolicyDefinitionSchema = z
  .object({
    name: z.string().min(1),
    rule: z.enum(REGISTERED_RULE_KINDS),
    description: z.string().optional(),
    target: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    pattern: z.string().min(1).optional(),
    value: z.unknown().optional(),
    value_json: z.string().optional(),
    session_id: z.string().min(1).optional(),
  })
  .superRefine((d, ctx) => {
    const need = (field: "target" | "key" | "pattern") => {
      if (d[field] === undefined) ctx.addIssue({ code: "custom", path: [field], message: `${d.rule} requires ${field}` });
    };
    if (d.rule === "deny_tool") need("target");
    if (d.rule === "deny_tool_param") (need("key"), need("pattern"));
    if (d.rule === "require_state") {
      need("key");
      if (d.value === undefined && d.value_json === undefined) ctx.addIssue({ code: "custom", path: ["value"], message: "require_state requires value or value_json" });
    }
  });
export type PolicyDefinition = z.infer<typeof PolicyDefinitionSchema>;
export type PolicyDefinitionInput = z.input<typeof PolicyDefinitionSchema>;

/** Parses a definition from untrusted input (a ValidationError names each bad field). */
export function parsePolicyDefinition(input: unknown): PolicyDefinition {
  return parseWith(PolicyDefinitionSchema, input, "policy definition", "policies");
}

/** A one-line description of what a definition blocks (no parameter values). */
export function describeDefinition(d: PolicyDefinition): string {
  if (d.description) return d.description;
  if (d.rule === "deny_tool") return `deny tool ${d.target}`;
  if (d.rule === "deny_tool_param") return `deny ${d.target ?? "any tool"} when parameter ${d.key} contains a pattern`;
  return `require state ${d.key} to hold a value`;
}

/** Compiles a registered definition into a rule; violations carry the policy's name. */
export function compileDefinition(d: PolicyDefinition): PolicyRule {
  switch (d.rule) {
    case "deny_tool":
      return {
        evaluate: ({ action }) => (toolOf(action) === d.target ? [violation(d.name, `tool ${d.target} is denied by policy`)] : []),
      };
    case "deny_tool_param":
      return {
        evaluate: ({ action, parameters }) => {
          const tool = toolOf(action);
          if (tool === undefined || (d.target !== undefined && tool !== d.target)) return [];
          if (!hasParam(parameters, d.key!) || !stringifyParam(parameters[d.key!]).includes(d.pattern!)) return [];
          return [violation(d.name, `parameter ${d.key} of tool ${tool} contains a denied pattern`)];
        },
      };
    case "require_state": {
      const expected = d.value_json !== undefined ? parseValueJson(d.value_json) : d.value;
      return {
        evaluate: ({ state }) => (state.exists(d.key!) && jsonEqual(state.get(d.key!), expected) ? [] : [violation(d.name, `state ${d.key} does not hold the required value`)]),
      };
    }
  }
}

function parseValueJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError("policies", "policy definition", [{ path: "value_json", message: `not JSON: ${(err as Error).message}` }]);
  }
}
