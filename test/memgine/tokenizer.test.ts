import { test } from "node:test";
import assert from "node:assert/strict";
import { porterStem } from "../../src/memgine/porter-stemmer.ts";
import { tokenize } from "../../src/memgine/tokenizer.ts";
import { InvertedIndex } from "../../src/memgine/inverted-index.ts";
import { termCounts } from "../../src/memgine/tokenizer.ts";

test("Porter stemmer matches the published examples", () => {
  // From Porter (1980), "An algorithm for suffix stripping".
  const cases: Record<string, string> = {
    caresses: "caress", ponies: "poni", ties: "ti", cats: "cat", feed: "feed", agreed: "agre", plastered: "plaster",
    motoring: "motor", sing: "sing", conflated: "conflat", troubled: "troubl", sized: "size", hopping: "hop", falling: "fall",
    hissing: "hiss", filing: "file", happy: "happi", sky: "sky", relational: "relat", conditional: "condit",
    rational: "ration", digitizer: "digit", vietnamization: "vietnam", predication: "predic", operator: "oper",
    feudalism: "feudal", decisiveness: "decis", hopefulness: "hope", callousness: "callous", formaliti: "formal",
    sensibiliti: "sensibl", triplicate: "triplic", formative: "form", electrical: "electr", goodness: "good",
    revival: "reviv", allowance: "allow", inference: "infer", airliner: "airlin", adjustable: "adjust",
    defensible: "defens", replacement: "replac", adjustment: "adjust", dependent: "depend", adoption: "adopt",
    communism: "commun", activate: "activ", effective: "effect", probate: "probat", rate: "rate", cease: "ceas",
    controll: "control", roll: "roll", generalizations: "gener", oscillators: "oscil",
  };
  for (const [word, stem] of Object.entries(cases)) assert.equal(porterStem(word), stem, word);
});

test("tokenize lowercases, drops stop words, stems ASCII words and keeps other scripts whole", () => {
  assert.deepEqual(tokenize("The Deployments are RUNNING on the servers"), ["deploy", "run", "server"]);
  assert.deepEqual(tokenize("naïve café_menu 2024"), ["naïve", "café", "menu", "2024"]);
  assert.deepEqual(tokenize("what is it?"), []);
});

test("inverted index ranks by BM25 and forgets removed documents", () => {
  const idx = new InvertedIndex();
  const docs: Record<string, string> = {
    a: "postgres database connection pooling",
    b: "database backups run nightly",
    c: "the cat sat on the mat",
    d: "postgres postgres postgres tuning guide for postgres",
  };
  for (const [id, text] of Object.entries(docs)) idx.add(id, termCounts(text));
  const hits = idx.search(termCounts("postgres tuning"), 10).map((h) => h.id);
  assert.deepEqual(hits, ["d", "a"]);
  assert.equal(idx.search(termCounts("cats"), 10)[0]?.id, "c");
  idx.remove("d", termCounts(docs.d!));
  assert.deepEqual(idx.search(termCounts("postgres tuning"), 10).map((h) => h.id), ["a"]);
  assert.equal(idx.docFreq("postgr"), 1);
  assert.equal(idx.size, 3);
});

test("inverted index stays correct across slot compaction after many replacements", () => {
  const idx = new InvertedIndex();
  const text = (i: number) => `doc ${i % 7} ver${i} shared`;
  for (let i = 0; i < 50; i++) idx.add(`d${i}`, termCounts(text(i)));
  // Replace each document many times: dead slots pile up and trigger compaction.
  for (let round = 1; round <= 60; round++) {
    for (let i = 0; i < 50; i++) idx.add(`d${i}`, termCounts(text(i + round * 50)), termCounts(text(i + (round - 1) * 50)));
  }
  assert.ok(idx.slots < 2 * idx.size + 1100, `slots ${idx.slots}`);
  assert.equal(idx.size, 50);
  assert.equal(idx.docFreq("share"), 50);
  assert.deepEqual(idx.search(termCounts(`ver${49 + 60 * 50}`), 1).map((h) => h.id), ["d49"]);
  assert.deepEqual(idx.search(termCounts("ver3"), 5), [], "old versions are gone");
  idx.compactSlots();
  assert.equal(idx.slots, 50);
  assert.deepEqual(idx.search(termCounts(`ver${7 + 60 * 50}`), 1).map((h) => h.id), ["d7"]);
});
