export * from "./errors.ts";
export * from "./ir/index.ts";
export * from "./storage/index.ts";
export * from "./inference/index.ts";
