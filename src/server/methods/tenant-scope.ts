import type { z } from "zod";
import type { ActionProposalSchema } from "../../ir/proposal.ts";
import type { ProposalResult } from "../../ir/results.ts";
import { RpcCode, RpcError } from "../../protocol/errors.ts";
import { TENANT } from "./state.ts";

type Proposal = z.infer<typeof ActionProposalSchema>;
type Action = Proposal["actions"][number];

/** The stored-key prefix of a tenant (`tenant:<id>:`); `state.*` with `tenant_id` uses the same. */
export const tenantPrefix = (tenantId: string) => `${TENANT}${tenantId}:`;

const KEYED = new Set(["state_write", "state_read", "assertion"]);

/** Every place an action names a state key, rewritten with `f`. */
function mapActionKeys(a: Action, f: (key: string) => string): Action {
  const params = KEYED.has(a.type) && typeof a.parameters["key"] === "string" ? { ...a.parameters, key: f(a.parameters["key"]) } : a.parameters;
  return {
    ...a,
    parameters: params,
    preconditions: a.preconditions.map((c) => ({ ...c, key: f(c.key) })),
    expected_effects: Object.fromEntries(Object.entries(a.expected_effects).map(([k, v]) => [f(k), v])),
    state_dependencies: a.state_dependencies.map(f),
    read_set: a.read_set.map(f),
    write_set: a.write_set.map(f),
    assumptions: a.assumptions.map((s) => ({ ...s, key: f(s.key) })),
  };
}

/** Every state key a proposal names literally. */
function keysOf(p: Proposal): string[] {
  const out: string[] = [];
  for (const a of p.actions) mapActionKeys(a, (k) => (out.push(k), k));
  return out;
}

/**
 * Puts every state key a proposal names under its tenant (`scope.tenantId`): `k` becomes
 * `tenant:<id>:k`, so the proposal sees exactly the keys `state.*` shows with that `tenant_id`.
 * A key computed at run time (`$a.output`) becomes text after the prefix, so it stays inside too.
 */
export function scopeProposalToTenant(p: Proposal, tenantId: string): Proposal {
  const prefix = tenantPrefix(tenantId);
  return { ...p, actions: p.actions.map((a) => mapActionKeys(a, (k) => prefix + k)) };
}

/** Strips the tenant prefix from the result's `state_changes`, so results speak the client's key names. */
export function unscopeResult(result: ProposalResult, tenantId: string): ProposalResult {
  const prefix = tenantPrefix(tenantId);
  const strip = (k: string) => (k.startsWith(prefix) ? k.slice(prefix.length) : k);
  return { ...result, results: result.results.map((r) => ({ ...r, state_changes: Object.fromEntries(Object.entries(r.state_changes).map(([k, v]) => [strip(k), v])) })) };
}

/** Unscoped proposals may not name tenant keys (as unscoped `state.*` calls may not): -32602. */
export function refuseTenantKeys(p: Proposal): void {
  const k = keysOf(p).find((key) => key.startsWith(TENANT));
  if (k !== undefined) throw new RpcError(RpcCode.InvalidParams, `invalid params: state key ${JSON.stringify(k)} is tenant-scoped; submit with scope.tenantId instead`);
}
