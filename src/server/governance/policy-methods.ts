import { z } from "zod";
import { CarError } from "../../errors.ts";
import { PolicyDefinitionSchema } from "../../policies/policy-definition.ts";
import type { PolicyScope, PolicySummary } from "../../policies/policy-engine.ts";
import { method, type MethodContext, type ServerMethodTable } from "../context.ts";
import { daemonPolicyNames } from "./daemon-policies.ts";

/** `policy.register` params: a PolicyDefinition (reference §1.7); `session_id` puts it in a policy scope. */
export const PolicyRegisterParams = PolicyDefinitionSchema;
export type PolicyRegisterParams = z.input<typeof PolicyRegisterParams>;
export interface PolicyRegisterResult {
  registered: string;
  scope: PolicyScope;
}

export const PolicyUnregisterParams = z.object({ name: z.string().min(1), session_id: z.string().min(1).optional() });
export type PolicyUnregisterParams = z.input<typeof PolicyUnregisterParams>;
export interface PolicyUnregisterResult {
  unregistered: string;
  /** How many policies of that name were removed (0 is not an error). */
  removed: number;
  scope: PolicyScope;
}

export const PolicyListParams = z.object({ session_id: z.string().min(1).optional() });
export type PolicyListParams = z.input<typeof PolicyListParams>;
export interface PolicyListResult {
  /** In registration order. */
  policies: PolicySummary[];
  scope: PolicyScope;
}

export const SessionPolicyCloseParams = z.object({ session_id: z.string().min(1) });
export type SessionPolicyCloseParams = z.input<typeof SessionPolicyCloseParams>;

/**
 * The policy scope a wire `session_id` names: none (the global layer) when absent, or when it is
 * the connection's own session id (the one `session.init` returned), so clients that stamp every
 * request with their session id keep the global policies.
 */
export function policyScopeOf(sessionId: string | undefined, ctx: MethodContext): string | undefined {
  return sessionId === undefined || sessionId === ctx.session.id ? undefined : sessionId;
}

/** `policy.register|unregister|list` and `session.policy.open|close` over the session's PolicyEngine. */
export const policyMethods: ServerMethodTable = {
  "policy.register": method(PolicyRegisterParams, (p, ctx): PolicyRegisterResult => {
    const { session_id, ...def } = p;
    return ctx.session.runtime.policies.register(def, policyScopeOf(session_id, ctx));
  }),
  "policy.unregister": method(PolicyUnregisterParams, (p, ctx): PolicyUnregisterResult => {
    const scope = policyScopeOf(p.session_id, ctx);
    // The daemon's --policy files bind every session; a client cannot lift them.
    if (scope === undefined && daemonPolicyNames(ctx.session).has(p.name)) {
      throw new CarError("policy_violation", "policies", `policy ${p.name} was loaded by the daemon (--policy) and cannot be unregistered by a client`);
    }
    const { removed, scope: where } = ctx.session.runtime.policies.unregister(p.name, scope);
    return { unregistered: p.name, removed, scope: where };
  }),
  "policy.list": method(PolicyListParams, (p, ctx): PolicyListResult => ctx.session.runtime.policies.list(policyScopeOf(p.session_id, ctx))),
  "session.policy.open": method(z.object({}), (_p, { session }): { session_id: string } => ({ session_id: session.runtime.policies.openScope() })),
  "session.policy.close": method(SessionPolicyCloseParams, (p, { session }): { closed: boolean } => ({ closed: session.runtime.policies.closeScope(p.session_id) })),
};
