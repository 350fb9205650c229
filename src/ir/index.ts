export * from "./json.ts";
export * from "./precondition.ts";
export * from "./action.ts";
export * from "./proposal.ts";
export * from "./tool-schema.ts";
export * from "./results.ts";
export * from "./event.ts";
export * from "./parse.ts";
