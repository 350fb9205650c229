export * from "./storage.ts";
export * from "./keys.ts";
export * from "./values.ts";
export * from "./records.ts";
export * from "./event-journal.ts";
export * from "./lazy-append-log.ts";
