import { createMemoryAppendLog, createMemoryStorage } from "../../adapters/storage/memory.ts";
import { testAppendLog, testStorage } from "./conformance.ts";

const EPHEMERAL = "memory is ephemeral by design: nothing outlives the instance";

testStorage({
  name: "memory",
  make: async ({ clock }) => createMemoryStorage({ clock }),
  skip: [{ reason: EPHEMERAL, cases: ["reopen keeps everything"] }],
});

testAppendLog({
  name: "memory",
  make: async ({ maxRecordBytes }) => createMemoryAppendLog({ maxRecordBytes }),
  skip: [{ reason: EPHEMERAL, cases: ["reopen keeps records", "event journal survives reopen"] }],
});
