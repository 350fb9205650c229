import type { PreparedForVerify } from "./prepare.ts";
import { prepareForVerify } from "./prepare.ts";
import { conflictCheck, repeatedCallCheck } from "./checks/conflicts.ts";
import { listSome, outcome, report, type CheckOutcome } from "./checks/outcome.ts";
import { PolicyInspector } from "./checks/policy.ts";
import { stateChecks } from "./checks/state.ts";
import { structureChecks } from "./checks/structure.ts";
import { toolChecks } from "./checks/tools.ts";
import {
  DEFAULT_MAX_ACTIONS,
  DEFAULT_MAX_SCHEMA_ERRORS_PER_ACTION,
  DEFAULT_REPEATED_CALL_THRESHOLD,
  type Evidence,
  type VerifyIssue,
  type VerifyOptions,
  type VerifyResult,
} from "./types.ts";
import { stateObject, walk, type WalkResult } from "./walk.ts";

/**
 * Statically verifies a proposal without running anything (reference §3.1): pure, linear in
 * actions + edges. Throws ValidationError (`invalid_proposal`) only for input that is not an
 * ActionProposal at all; everything else is a finding. `valid` is false iff there is an error.
 */
export function verify(proposal: unknown, options: VerifyOptions = {}): VerifyResult {
  return verifyPrepared(prepareForVerify(proposal), options);
}

/** `verify` on an already prepared proposal (lets the planner reuse the parse). */
export function verifyPrepared(prep: PreparedForVerify, options: VerifyOptions = {}): VerifyResult {
  const { actions, dag } = prep;
  const maxActions = options.maxActions ?? DEFAULT_MAX_ACTIONS;
  const checks: CheckOutcome[] = [...structureChecks(prep)];

  const max = outcome("max_actions", "decision_procedure", `the proposal has at most max_actions (${maxActions}) actions`);
  if (actions.length > maxActions) report(max, -1, null, "error", `the proposal has ${actions.length} actions, more than max_actions (${maxActions})`);
  checks.push(max);
  checks.push(...toolChecks(actions, options.tools, options.maxSchemaErrorsPerAction ?? DEFAULT_MAX_SCHEMA_ERRORS_PER_ACTION));

  const policy = new PolicyInspector(options.policyCheck, options.capabilities);
  policy.checkProposal(actions.length);
  const walked = walk(prep, {
    initialState: options.initialState ?? {},
    mode: "verify",
    ...(options.policyCheck || options.capabilities ? { inspect: (i, a, s) => policy.inspect(i, a, s) } : {}),
  });
  checks.push(policy.policies, policy.capabilities);
  checks.push(...stateChecks(prep, walked));
  const { check: conflictOutcome, conflicts } = conflictCheck(prep);
  checks.push(conflictOutcome, repeatedCallCheck(actions, options.repeatedCallThreshold ?? DEFAULT_REPEATED_CALL_THRESHOLD));

  const issues: VerifyIssue[] = [];
  for (const c of checks) {
    c.issues.sort((x, y) => x.index - y.index);
    for (const { issue } of c.issues) issues.push(issue);
  }
  return {
    valid: !issues.some((i) => i.severity === "error"),
    issues,
    simulated_state: stateObject(walked.state),
    execution_levels: dag.levels.map((lv) => lv.map((i) => actions[i]!.id)),
    conflicts,
    evidence: evidenceOf(prep, checks, walked, conflicts),
  };
}

function evidenceOf(prep: PreparedForVerify, checks: CheckOutcome[], w: WalkResult, conflicts: Array<[string, string, string]>): Evidence {
  const unknownKeys = [...w.state].filter(([, v]) => !v.known).map(([k]) => k);
  const assumptions = [
    "tools succeed and write exactly their declared expected_effects (the forward walk applies only what actions declare)",
    "every action's effects are applied even where a finding says it would be blocked (one pass, no cascade; see simulate for the cascade)",
    "actions of one level see the state as the level starts; their effects apply in declaration order",
  ];
  if (unknownKeys.length > 0) assumptions.push(`values known only at run time (from tool outputs): ${listSome(unknownKeys)}`);
  const untested: string[] = [];
  for (const c of checks) if (!c.ran) untested.push(`${c.name}: ${c.cannot_verify[0] ?? "not run"}`);
  const residual: string[] = [];
  if (conflicts.length > 0) residual.push(`unordered writes leave these keys racing: ${listSome([...new Set(conflicts.map((c) => c[2]))])}`);
  if (w.undecided > 0) residual.push(`${w.undecided} condition(s) depend on run-time values and may still fail`);
  residual.push("tools may fail, time out or be denied by rate limits at run time");
  const coverage = checks.reduce((s, c) => s + c.coverage, 0) / checks.length;
  return {
    checks: checks.map((c) => ({ name: c.name, ran: c.ran, verifies: c.verifies, cannot_verify: c.cannot_verify, findings: c.issues.length, tier: c.tier })),
    assumptions,
    untested_regions: untested,
    residual_risks: residual,
    confidence: Math.round(coverage * 1000) / 1000,
  };
}
