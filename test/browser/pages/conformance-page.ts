/**
 * Runs in Chromium (bundled by chromium.test.ts with `node:test` and `node:assert/strict` mapped
 * to the shims in ../shims): the shared storage conformance suites against the browser's own
 * IndexedDB, through the same adapters and cases as test/storage/indexeddb.test.ts runs on
 * fake-indexeddb in Node.
 */
import { createIndexedDbAppendLog, createIndexedDbStorage } from "../../../adapters/storage/indexeddb.ts";
import { testAppendLog, testStorage } from "../../storage/conformance.ts";
import { runCollected, type TestOutcome } from "../shims/node-test.ts";

/**
 * The cases use Node's Buffer in two places (a Buffer stored as a value, Buffer.compare). A
 * browser has none; this stand-in is a Uint8Array subclass like Node's, which is what those
 * cases exercise (a subclass instance goes in, a plain Uint8Array comes out).
 */
class PageBuffer extends Uint8Array {
  static override from(input: unknown): PageBuffer {
    const bytes = typeof input === "string" ? new TextEncoder().encode(input) : Uint8Array.from(input as ArrayLike<number>);
    const b = new PageBuffer(bytes.length);
    b.set(bytes);
    return b;
  }
  static compare(a: Uint8Array, b: Uint8Array): number {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }
}
(globalThis as { Buffer?: unknown }).Buffer ??= PageBuffer;

async function run(prefix: string): Promise<TestOutcome[]> {
  testStorage({ name: "indexeddb (Chromium)", make: ({ clock, id }) => createIndexedDbStorage({ dbName: `${prefix}-kv-${id}`, clock }) });
  testAppendLog({ name: "indexeddb (Chromium)", make: ({ id, maxRecordBytes }) => createIndexedDbAppendLog({ dbName: `${prefix}-log-${id}`, maxRecordBytes }) });
  return runCollected((o) => console.log(`${o.status} ${o.name}${o.error ? `: ${o.error}` : ""}`));
}

declare global {
  // eslint-disable-next-line no-var
  var carConformance: { run: typeof run };
}
globalThis.carConformance = { run };
