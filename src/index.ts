export * from "./errors.ts";
export * from "./ir/index.ts";
