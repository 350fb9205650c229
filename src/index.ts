export * from "./errors.ts";
export * from "./ir/index.ts";
export * from "./storage/index.ts";
export * from "./engine/index.ts";
export * from "./memgine/index.ts";
export * from "./inference/index.ts";
export * from "./multi/index.ts";
export * from "./scheduler/index.ts";
