import { z } from "zod";
import { SlidingWindow } from "./rate-window.ts";
import { hasParam, stringifyParam, toolOf, violation, type PolicyRule } from "./rule.ts";

const Name = z.string().min(1);
const Scalar = z.union([z.string(), z.number(), z.boolean()]);

const DenyToolParam = z
  .strictObject({ tool: Name, param: Name, equals: Scalar.optional(), contains: z.string().min(1).optional() })
  .refine((r) => r.equals === undefined || r.contains === undefined, { message: "give equals or contains, not both" });
const AllowToolParam = z.strictObject({ tool: Name, param: Name, allow: z.array(Scalar) });
const DenyToolParamMatching = z.strictObject({ tool: Name, param: Name, matches: z.string() });
const RateLimitTool = z.strictObject({ tool: Name, max_calls: z.number().int().nonnegative(), interval_secs: z.number().positive() });

/** The rules one policy file may hold (reference §4.2). Unknown keys are an error. */
export const PolicyFileSchema = z.strictObject({
  deny_tool: z.array(Name).default([]),
  deny_keyword: z.array(Name).default([]),
  deny_tool_param: z.array(DenyToolParam).default([]),
  allow_tool_param: z.array(AllowToolParam).default([]),
  deny_tool_param_matching: z.array(DenyToolParamMatching).default([]),
  rate_limit_tool: z.array(RateLimitTool).default([]),
});
export type PolicyFileRules = z.infer<typeof PolicyFileSchema>;

/** How many rules of each kind a file holds, for `list()` descriptions. */
export function summarizeRules(r: PolicyFileRules): string {
  const parts = Object.entries(r)
    .filter(([, v]) => (v as unknown[]).length > 0)
    .map(([k, v]) => `${(v as unknown[]).length} ${k}`);
  return parts.length ? parts.join(", ") : "no rules";
}

/**
 * Compiles the rules of one file. Regexes are compiled once here; a bad one denies its tool
 * outright rather than failing open. Each `rate_limit_tool` rule owns its window.
 */
export function compileFileRules(r: PolicyFileRules): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const tool of r.deny_tool) {
    rules.push({ evaluate: ({ action }) => (toolOf(action) === tool ? [violation(`deny_tool:${tool}`, `tool ${tool} is denied by policy`)] : []) });
  }
  for (const kw of r.deny_keyword) {
    rules.push({
      evaluate: ({ action, parameters }) => {
        const tool = toolOf(action);
        if (tool === undefined) return [];
        const hit = Object.values(parameters).some((v) => v !== undefined && stringifyParam(v).includes(kw));
        return hit ? [violation(`deny_keyword:${kw}`, `a parameter of tool ${tool} contains a denied keyword`)] : [];
      },
    });
  }
  for (const d of r.deny_tool_param) {
    const name = `deny_tool_param:${d.tool}.${d.param}`;
    rules.push({
      evaluate: ({ action, parameters }) => {
        if (toolOf(action) !== d.tool || !hasParam(parameters, d.param)) return [];
        const text = stringifyParam(parameters[d.param]);
        if (d.equals !== undefined) return text === stringifyParam(d.equals) ? [violation(name, `parameter ${d.param} of tool ${d.tool} has a denied value`)] : [];
        if (d.contains !== undefined) return text.includes(d.contains) ? [violation(name, `parameter ${d.param} of tool ${d.tool} contains a denied value`)] : [];
        return [violation(name, `parameter ${d.param} of tool ${d.tool} is not allowed`)];
      },
    });
  }
  for (const a of r.allow_tool_param) {
    const name = `allow_tool_param:${a.tool}.${a.param}`;
    const allowed = new Set(a.allow.map(stringifyParam));
    rules.push({
      evaluate: ({ action, parameters }) => {
        if (toolOf(action) !== a.tool) return [];
        if (!hasParam(parameters, a.param)) return [violation(name, `parameter ${a.param} of tool ${a.tool} is required by an allow-list`)];
        return allowed.has(stringifyParam(parameters[a.param])) ? [] : [violation(name, `parameter ${a.param} of tool ${a.tool} is not in its allow-list`)];
      },
    });
  }
  for (const m of r.deny_tool_param_matching) {
    const name = `deny_tool_param_matching:${m.tool}.${m.param}`;
    let re: RegExp | undefined;
    try {
      re = new RegExp(m.matches, "u");
    } catch {
      re = undefined;
    }
    rules.push({
      evaluate: ({ action, parameters }) => {
        if (toolOf(action) !== m.tool) return [];
        if (!re) return [violation(name, `the policy's pattern for ${m.tool}.${m.param} is not a valid regex; tool denied`)];
        if (!hasParam(parameters, m.param)) return [];
        return re.test(stringifyParam(parameters[m.param])) ? [violation(name, `parameter ${m.param} of tool ${m.tool} matches a denied pattern`)] : [];
      },
    });
  }
  for (const l of r.rate_limit_tool) {
    const window = new SlidingWindow(l.max_calls, l.interval_secs * 1000);
    const name = `rate_limit_tool:${l.tool}`;
    rules.push({
      evaluate: ({ action, now, dryRun }) => {
        if (toolOf(action) !== l.tool) return [];
        const admitted = dryRun ? window.count(now) < l.max_calls : window.tryAdmit(now);
        return admitted ? [] : [violation(name, `tool ${l.tool} exceeded ${l.max_calls} calls per ${l.interval_secs} s`)];
      },
    });
  }
  return rules;
}
