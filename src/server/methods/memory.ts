import type { InferenceFn } from "../../memgine/core.ts";
import type { Memgine } from "../../memgine/memgine.ts";
import { memoryMethods } from "../../memgine/methods.ts";
import type { MemoryRegistry, MemoryScope } from "../../memgine/registry.ts";
import { method, type MethodContext, type ServerMethodTable, type Session } from "../context.ts";

/** What the memory feature needs from the daemon's services. */
export interface MemoryServices {
  /** The daemon's one registry: a graph per memory scope, shared by every session naming it. */
  memory: MemoryRegistry;
  /**
   * The model call of `skill.repair`, `skills.distill` and `skills.evolve`, read on every call so
   * it can be plugged in after start. Unset: those methods fail with CarError `unsupported`.
   */
  infer?: InferenceFn | undefined;
}

/** The memory scope `session.auth` chose: namespace, else agent id, else the daemon-shared graph. */
export function sessionMemoryScope(session: Pick<Session, "memoryNamespace" | "agentId">): MemoryScope {
  return { memory_namespace: session.memoryNamespace ?? null, agent_id: session.agentId ?? null };
}

/**
 * The `memory.*`, `skill.*` and `skills.*` methods (reference §1.7, §6) on the daemon: the
 * memgine's own table, each entry dispatched to the graph of the calling session's scope.
 */
export function memoryServerMethods(services: MemoryServices): ServerMethodTable {
  const graphOf = (ctx: MethodContext): Promise<Memgine> => {
    services.memory.setInference(services.infer);
    return services.memory.get(sessionMemoryScope(ctx.session));
  };
  const table: ServerMethodTable = {};
  for (const [name, def] of Object.entries(memoryMethods(graphOf))) {
    table[name] = method(def.params, (params, ctx) => def.handler(params, ctx));
  }
  return table;
}
