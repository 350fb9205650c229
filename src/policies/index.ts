export * from "./rule.ts";
export * from "./rate-window.ts";
export * from "./policy-definition.ts";
export * from "./file-rules.ts";
export * from "./policy-file.ts";
export * from "./policy-engine.ts";
