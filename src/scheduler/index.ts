export * from "./schemas.ts";
export * from "./cron.ts";
export * from "./duration.ts";
export * from "./occurrences.ts";
export * from "./store.ts";
export * from "./scheduler.ts";
export * from "./executor.ts";
export * from "./methods.ts";
