// Deno run of the WebGPU backend against the CPU oracle (Deno has navigator.gpu built in).
//   deno run -A test/inference/deno-check.ts   → prints "deno webgpu ok …" or "skip: …"; exits 1 on a mismatch.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SeededRandom } from "../../src/engine/random.ts";
import { loadWebGpuModel } from "../../adapters/inference/webgpu/backend.ts";
import { fsModelFiles } from "../../adapters/inference/fs-model-files.ts";
import { writeTinyModel } from "./tiny-model.ts";
import { ReferenceLlama } from "./reference-llama.ts";

const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
const adapter = await gpu?.requestAdapter();
if (!gpu || !adapter) {
  console.log("skip: no WebGPU adapter in this Deno (run scripts/setup-webgpu.sh)");
} else {
  const root = await mkdtemp(join(tmpdir(), "car-deno-"));
  try {
    const tiny = await writeTinyModel(join(root, "m"));
    const ref = new ReferenceLlama(tiny);
    const model = await loadWebGpuModel(fsModelFiles(tiny.dir), { gpu, prefillChunk: 5, maxContext: 64 });
    const ids = model.tokenizer.encode("the cat sat on the mat");
    const got = await model.logits(ids);
    const want = ref.forward(ids).logits.at(-1)!;
    let d = 0;
    for (let i = 0; i < got.length; i++) d = Math.max(d, Math.abs(got[i]! - want[i]!));
    const toks: number[] = [];
    await model.generateIds(ids, { maxTokens: 8, temperature: 0, topK: 0, topP: 1, random: new SeededRandom(1) }, () => {}, undefined, (t) => toks.push(t));
    const greedy = ref.greedy(ids, 8, tiny.eosId);
    await model.dispose();
    if (d >= 1e-3 || JSON.stringify(toks) !== JSON.stringify(greedy)) {
      console.log(`deno webgpu MISMATCH: max diff ${d}, tokens ${toks} vs ${greedy}`);
      (globalThis as unknown as { Deno: { exit(c: number): never } }).Deno.exit(1);
    }
    console.log(`deno webgpu ok: logits max diff ${d.toExponential(1)}, greedy tokens equal the oracle (${toks.length})`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
