import type { ServerMethodTable } from "../context.ts";
import { eventMethods } from "./events.ts";
import { proposalMethods } from "./proposal.ts";
import { sessionMethods } from "./session.ts";
import { stateMethods } from "./state.ts";
import { toolMethods } from "./tools.ts";

export * from "./events.ts";
export * from "./memory.ts";
export * from "./multi.ts";
export * from "./proposal.ts";
export * from "./session.ts";
export * from "./state.ts";
export * from "./tools.ts";

/**
 * The methods built into the daemon core. Feature modules (policies, verify, memory, inference,
 * multi-agent, scheduler) add their own tables through `createApp({ methods })`; anything not
 * registered answers -32601.
 */
export function coreMethods(): ServerMethodTable {
  return { ...sessionMethods, ...toolMethods, ...proposalMethods, ...stateMethods, ...eventMethods };
}
