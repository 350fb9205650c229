/**
 * The storage conformance suites: every Storage and AppendLog implementation runs them.
 * `make(ctx)` opens the store for `ctx.id`; calling it again with the same id reopens the same data.
 */
export { testStorage, STORAGE_CASES, type StorageCaseName, type StorageTestContext, type TestStorageOptions } from "./storage-cases.ts";
export { testAppendLog, APPEND_LOG_CASES, type AppendLogCaseName, type AppendLogTestContext, type TestAppendLogOptions } from "./append-log-cases.ts";
