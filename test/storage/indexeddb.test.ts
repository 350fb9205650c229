import "fake-indexeddb/auto";
import { createIndexedDbAppendLog, createIndexedDbStorage } from "../../adapters/storage/indexeddb.ts";
import { testAppendLog, testStorage } from "./conformance.ts";

// fake-indexeddb implements IndexedDB in this process; the browser issue runs the same suites in Chromium.
testStorage({
  name: "indexeddb (fake-indexeddb)",
  make: ({ clock, id }) => createIndexedDbStorage({ dbName: `car-kv-${id}`, clock }),
});

testAppendLog({
  name: "indexeddb (fake-indexeddb)",
  make: ({ id, maxRecordBytes }) => createIndexedDbAppendLog({ dbName: `car-log-${id}`, maxRecordBytes }),
});
