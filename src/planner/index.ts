export * from "./types.ts";
export * from "./feedback.ts";
export * from "./rank.ts";
export * from "./plan-and-execute.ts";
