import { z } from "zod";
import type { RuntimeState } from "../../engine/runtime.ts";
import { RpcCode, RpcError } from "../../protocol/errors.ts";
import { method, type ServerMethodTable } from "../context.ts";

/** Prefix of tenant-scoped state keys: `tenant:<id>:<key>`. */
export const TENANT = "tenant:";

/** Tenant ids may not contain `:`, so `tenant:<id>:<key>` names exactly one (tenant, key) pair. */
export const TenantId = z.string().min(1).regex(/^[^:]+$/, "tenant_id may not contain ':'").optional();
export const StateKeyParams = z.object({ key: z.string().min(1), tenant_id: TenantId });
export type StateKeyParams = z.input<typeof StateKeyParams>;
export const StateSetParams = z.object({ key: z.string().min(1), value: z.unknown().optional(), tenant_id: TenantId });
export type StateSetParams = z.input<typeof StateSetParams>;
export const StateScopeParams = z.object({ tenant_id: TenantId });
export type StateScopeParams = z.input<typeof StateScopeParams>;

/** The stored key: `tenant:<id>:<key>` when scoped. Unscoped calls may not touch tenant keys. */
function storedKey(key: string, tenantId: string | undefined): string {
  if (tenantId !== undefined) return `${TENANT}${tenantId}:${key}`;
  if (key.startsWith(TENANT)) throw new RpcError(RpcCode.InvalidParams, `invalid params: keys starting with "${TENANT}" are tenant-scoped; pass tenant_id instead`);
  return key;
}

/** The keys one scope sees, unprefixed. */
function scopeKeys(state: RuntimeState, tenantId: string | undefined): Array<[stored: string, key: string]> {
  const prefix = tenantId === undefined ? undefined : `${TENANT}${tenantId}:`;
  const out: Array<[string, string]> = [];
  for (const k of state.keys()) {
    if (prefix === undefined) {
      if (!k.startsWith(TENANT)) out.push([k, k]);
    } else if (k.startsWith(prefix)) out.push([k, k.slice(prefix.length)]);
  }
  return out;
}

/** `state.get|set|exists|keys|snapshot|delete`, with optional `tenant_id` isolation. */
export const stateMethods: ServerMethodTable = {
  "state.get": method(StateKeyParams, (p, { session }) => session.runtime.state.get(storedKey(p.key, p.tenant_id)) ?? null),
  "state.set": method(StateSetParams, (p, { session }) => {
    session.runtime.state.set(storedKey(p.key, p.tenant_id), p.value === undefined ? null : p.value);
    return "ok";
  }),
  "state.exists": method(StateKeyParams, (p, { session }): boolean => session.runtime.state.exists(storedKey(p.key, p.tenant_id))),
  "state.keys": method(StateScopeParams, (p, { session }): string[] => scopeKeys(session.runtime.state, p.tenant_id).map(([, k]) => k)),
  "state.snapshot": method(StateScopeParams, (p, { session }): Record<string, unknown> => {
    const state = session.runtime.state;
    return Object.fromEntries(scopeKeys(state, p.tenant_id).map(([stored, k]) => [k, state.get(stored)]));
  }),
  "state.delete": method(StateKeyParams, (p, { session }) => ({ deleted: session.runtime.state.delete(storedKey(p.key, p.tenant_id)) })),
};
