import { z } from "zod";
import type { Action } from "../ir/action.ts";
import type { ToolSchemaInput } from "../ir/tool-schema.ts";

/** How strong a finding is (car-verify's EvidenceTier): a kind, not a grade. */
export const VerifyTierSchema = z.enum(["decision_procedure", "heuristic", "sampled"]);
export type VerifyTier = z.infer<typeof VerifyTierSchema>;

export const VerifySeveritySchema = z.enum(["error", "warning", "info"]);
export type VerifySeverity = z.infer<typeof VerifySeveritySchema>;

/** One finding. `action_id` is null for proposal-wide findings; `check` names the evidence check that raised it. */
export const VerifyIssueSchema = z.object({
  action_id: z.string().nullable(),
  severity: VerifySeveritySchema,
  message: z.string(),
  tier: VerifyTierSchema,
  check: z.string(),
});
export type VerifyIssue = z.infer<typeof VerifyIssueSchema>;

/** What one check did and did not establish. */
export const EvidenceCheckSchema = z.object({
  name: z.string(),
  ran: z.boolean(),
  verifies: z.string(),
  cannot_verify: z.array(z.string()),
  findings: z.number().int().nonnegative(),
  tier: VerifyTierSchema,
});
export type EvidenceCheck = z.infer<typeof EvidenceCheckSchema>;

/** The evidence bundle: read it rather than trusting `valid` alone. `confidence` is coverage, not a success probability. */
export const EvidenceSchema = z.object({
  checks: z.array(EvidenceCheckSchema),
  assumptions: z.array(z.string()),
  untested_regions: z.array(z.string()),
  residual_risks: z.array(z.string()),
  confidence: z.number().min(0).max(1),
});
export type Evidence = z.infer<typeof EvidenceSchema>;

/** The result of `verify` — exactly the reference's shape (§3.1). */
export const VerifyResultSchema = z.object({
  valid: z.boolean(),
  issues: z.array(VerifyIssueSchema),
  simulated_state: z.record(z.string(), z.unknown()),
  execution_levels: z.array(z.array(z.string())),
  conflicts: z.array(z.tuple([z.string(), z.string(), z.string()])),
  evidence: EvidenceSchema,
});
export type VerifyResult = z.infer<typeof VerifyResultSchema>;

/** Read access to the simulated state at the moment an action would run. */
export interface SimulatedStateView {
  /** The value (a reference template such as `"$a.output"` when not known statically), or null when absent. */
  get(key: string): unknown;
  exists(key: string): boolean;
  /** False when the value comes from a tool output or another value verify cannot know. */
  isKnown(key: string): boolean;
}

/** A policy/capability violation as a pluggable check reports it (`name` stable, e.g. `deny_tool:shell`). */
export interface PolicyFinding {
  name: string;
  reason: string;
}

/** Pure policy check: the violations `action` would meet. Must not consume budgets (no rate-limit windows). */
export type PolicyCheck = (action: Action, context: { state: SimulatedStateView }) => readonly PolicyFinding[];

/**
 * A capability set (reference §4.3). Empty or absent allow-lists allow everything; `denied_tools`
 * overrides `allowed_tools`. camelCase spellings are accepted too.
 */
export interface CapabilitiesLike {
  allowed_tools?: Iterable<string>;
  denied_tools?: Iterable<string>;
  allowed_state_keys?: Iterable<string>;
  max_actions?: number;
  allowedTools?: Iterable<string>;
  deniedTools?: Iterable<string>;
  allowedStateKeys?: Iterable<string>;
  maxActions?: number;
}

/** Settings of `verify`. Every limit has a documented default. */
export interface VerifyOptions {
  /** State before the proposal runs (default `{}`). */
  initialState?: Readonly<Record<string, unknown>>;
  /** Registered tools. Absent: the unknown-tool and parameter-schema checks do not run. */
  tools?: readonly ToolSchemaInput[];
  /** Most actions a proposal may hold (default `DEFAULT_MAX_ACTIONS`, 1,000). */
  maxActions?: number;
  /** Policy check run on every action; absent: the `policies` check does not run. */
  policyCheck?: PolicyCheck;
  /** Capability set; absent: the `capabilities` check does not run. */
  capabilities?: CapabilitiesLike;
  /** Identical tool calls (same tool, same parameters) at which the loop warning fires (default 3). */
  repeatedCallThreshold?: number;
  /** Parameter-schema violations reported per action before the rest are summarized (default 10). */
  maxSchemaErrorsPerAction?: number;
}

/** Default of `VerifyOptions.maxActions`. */
export const DEFAULT_MAX_ACTIONS = 1000;
/** Default of `VerifyOptions.repeatedCallThreshold`. */
export const DEFAULT_REPEATED_CALL_THRESHOLD = 3;
/** Default of `VerifyOptions.maxSchemaErrorsPerAction`. */
export const DEFAULT_MAX_SCHEMA_ERRORS_PER_ACTION = 10;
