import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { createFsAppendLog, createFsStorage } from "../../adapters/storage/fs.ts";
import { testAppendLog, testStorage } from "./conformance.ts";

const base = await mkdtemp(join(tmpdir(), "car-fs-conformance-"));
after(() => rm(base, { recursive: true, force: true }));

testStorage({
  name: "fs",
  make: ({ clock, id }) => createFsStorage({ root: join(base, "kv", id), clock }),
});

testAppendLog({
  name: "fs",
  make: ({ id, maxRecordBytes }) => createFsAppendLog({ path: join(base, "logs", id, "events.log"), maxRecordBytes }),
});

// `sync: false` (the daemon's --journal buffered) keeps the same contract, fsync aside.
testAppendLog({
  name: "fs (sync: false)",
  make: ({ id, maxRecordBytes }) => createFsAppendLog({ path: join(base, "unsynced", id, "events.log"), maxRecordBytes, sync: false }),
});
