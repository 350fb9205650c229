import type { z } from "zod";
import { RpcCode, RpcError } from "./errors.ts";

/**
 * One JSON-RPC method: its params schema and its handler. `C` is the per-request context the
 * server hands to handlers. Handlers are declared with method syntax so tables of differently
 * typed entries stay assignable to `MethodTable<C>`.
 */
export interface MethodEntry<C, S extends z.ZodType = z.ZodType> {
  params: S;
  handler(params: z.infer<S>, ctx: C): unknown;
  /** This method's deadline in ms (default: the server's handler deadline). */
  deadlineMs?(params: z.infer<S>, defaults: { handlerTimeoutMs: number; toolTimeoutMs: number; deadlineGraceMs: number }): number;
  /** Answer -32005 unless the connection completed `server.handshake` first. */
  requiresHandshake?: boolean;
  /** Also reachable over HTTP `POST /rpc` (default true). */
  http?: boolean;
}

/** Method name → entry. Feature modules each export one of these. */
export type MethodTable<C> = Record<string, MethodEntry<C>>;

/** Builds a table entry with its handler's params typed from the schema. */
export function defineMethod<C, S extends z.ZodType>(params: S, handler: (params: z.infer<S>, ctx: C) => unknown, extra: Omit<MethodEntry<C, S>, "params" | "handler"> = {}): MethodEntry<C> {
  return { ...extra, params, handler } as MethodEntry<C>;
}

/** The methods a server answers, built from the feature modules' tables. */
export class MethodRegistry<C> {
  private readonly entries = new Map<string, MethodEntry<C>>();

  constructor(...tables: MethodTable<C>[]) {
    for (const t of tables) this.add(t);
  }

  /** Adds (or replaces) every entry of a table. */
  add(table: MethodTable<C>): this {
    for (const [name, entry] of Object.entries(table)) this.entries.set(name, entry);
    return this;
  }

  get(name: string): MethodEntry<C> | undefined {
    return this.entries.get(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Every method name, sorted. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The entry for `name`, or an RpcError -32601. */
  require(name: string): MethodEntry<C> {
    const e = this.entries.get(name);
    if (!e) throw new RpcError(RpcCode.MethodNotFound, `method not found: ${name}`);
    return e;
  }
}

/** Validates params against an entry's schema; an RpcError -32602 carries the zod issues in `data.issues`. */
export function parseParams<C>(name: string, entry: MethodEntry<C>, params: unknown): unknown {
  // Omitted params read as an empty object, so `{}`-shaped methods accept both forms.
  const res = entry.params.safeParse(params === undefined ? {} : params);
  if (res.success) return res.data;
  const summary = res.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`).join("; ");
  throw new RpcError(RpcCode.InvalidParams, `invalid params for ${name}: ${summary}`, { issues: res.error.issues });
}
