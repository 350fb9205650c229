export * from "./errors.ts";
export * from "./ir/index.ts";
export * from "./storage/index.ts";
export * from "./engine/index.ts";
export * from "./verify/index.ts";
export * from "./planner/index.ts";
