import type { Storage } from "../../storage/storage.ts";
import type { ServerMethodTable } from "../context.ts";
import { checkpointMethods } from "./checkpoint-methods.ts";
import { policyMethods } from "./policy-methods.ts";
import { replanMethods } from "./replan-methods.ts";
import { verifyMethods } from "./verify-methods.ts";

export * from "./checkpoint-methods.ts";
export * from "./daemon-policies.ts";
export * from "./policy-methods.ts";
export * from "./replan-methods.ts";
export * from "./verify-methods.ts";

/**
 * The governance and verification methods: `policy.*`, `session.policy.*`, `replan.*`,
 * `checkpoint.*`, `verify`, `simulate`, `equivalent`, `optimize`, `plan.rank`. Checkpoints are
 * persisted in `storage` when given.
 */
export function governanceMethods(services: { storage?: Storage | undefined } = {}): ServerMethodTable {
  return { ...policyMethods, ...replanMethods, ...checkpointMethods(services.storage), ...verifyMethods };
}
