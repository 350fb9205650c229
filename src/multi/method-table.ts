import type { z } from "zod";

/**
 * One daemon method: the zod schema of its params and the handler that receives the parsed
 * params and the caller's context `C`. (The daemon answers `-32602` when `params` rejects.)
 */
export interface MethodDef<C, S extends z.ZodType = z.ZodType> {
  params: S;
  // Method syntax keeps handlers with specific params assignable to the general table type.
  handler(params: z.output<S>, ctx: C): Promise<unknown>;
}

/** Method name → definition. */
export type MethodTable<C> = Record<string, MethodDef<C>>;
