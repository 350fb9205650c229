import { test } from "node:test";
import assert from "node:assert/strict";
import { readJson, readOptionalJson, type ModelFiles } from "../../adapters/inference/webgpu/model-files.ts";
import { CarError } from "../../src/errors.ts";

const folder = (files: Record<string, string>): ModelFiles => ({
  location: "mem://model/",
  read: async (name) => (name in files ? new TextEncoder().encode(files[name]) : undefined),
});

test("a malformed optional model JSON file is a typed invalid_input naming the file, like a required one", async () => {
  const files = folder({ "generation_config.json": "{not json", "config.json": "{\"a\":1}" });
  for (const read of [readOptionalJson, readJson]) {
    await assert.rejects(read(files, "generation_config.json"), (e: unknown) => e instanceof CarError && e.code === "invalid_input" && /generation_config\.json: not JSON/.test(e.message));
  }
  assert.deepEqual(await readOptionalJson(files, "config.json"), { a: 1 });
  assert.equal(await readOptionalJson(files, "tokenizer_config.json"), undefined);
});
