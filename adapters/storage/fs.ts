/** The `fs` storage adapter: crash-safe Storage and AppendLog on node:fs (Node, Bun, Deno). */
export { createFsStorage, type FsStorageOptions } from "./fs-storage.ts";
export { createFsAppendLog, type FsAppendLogOptions } from "./fs-append-log.ts";
export { recoverAppendLog, type RecoverResult } from "./fs-recover.ts";
export { keyToName, MAX_READABLE_NAME } from "./fs-key-names.ts";
