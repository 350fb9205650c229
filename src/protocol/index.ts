export * from "./errors.ts";
export * from "./envelope.ts";
export * from "./codec.ts";
export * from "./methods.ts";
export * from "./version.ts";
export * from "./callbacks.ts";
