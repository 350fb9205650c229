/**
 * Runs in Chromium (bundled by chromium.test.ts): the `car-server/browser` entry executes
 * proposals with IndexedDB persistence; after a reload the second phase reads everything back.
 * Results go back to the test as JSON from `globalThis.carPage.*`.
 */
import { CarClient, CarError, createBrowserInferenceEngine, createBrowserRuntime, verify, type BrowserRuntime } from "../../../runtimes/browser.ts";

const DB = "car-browser-test";

type Json = unknown;

function errorOf(err: unknown): { code?: string; message: string } {
  return err instanceof CarError ? { code: err.code, message: err.message } : { message: String((err as Error)?.message ?? err) };
}

function registerTools(car: BrowserRuntime): void {
  car.runtime.registerTool({ name: "double" }, (p) => ({ doubled: (p["n"] as number) * 2 }));
  car.runtime.registerTool({ name: "refuse" }, () => {
    throw new Error("refused in the page");
  });
}

/** First visit: a proposal, an aborted one, a direct write, memory, a checkpoint, a model registration. No close: the reload tears the page down. */
async function phase1(modelUrl: string): Promise<Json> {
  const car = await createBrowserRuntime({ dbName: DB });
  const rt = car.runtime;
  const restoredAtStart = rt.restored;
  rt.events.enableChain();
  registerTools(car);
  const ok = await rt.executeProposal({
    id: "p-double",
    actions: [
      { id: "w", type: "state_write", parameters: { key: "counter", value: 21 } },
      { id: "d", type: "tool_call", tool: "double", parameters: { n: 21 }, dependencies: ["w"] },
      { id: "s", type: "state_write", parameters: { key: "doubled", value: "$d.output.doubled" }, dependencies: ["d"] },
    ],
  });
  const aborted = await rt.executeProposal({
    id: "p-abort",
    actions: [
      { id: "w2", type: "state_write", parameters: { key: "counter", value: -1 } },
      { id: "r", type: "tool_call", tool: "refuse", dependencies: ["w2"] },
    ],
  });
  rt.state.set("note", { text: "héllo 😀", list: [1, null, true] });
  const mem = await car.memory.get();
  const factId = await mem.addFact("user.drink", "the user drinks green tea every morning", "knowledge");
  const cp = await rt.storeCheckpoint({ label: "after the proposals" });
  const engine = await createBrowserInferenceEngine({ storage: car.storage });
  await engine.registry.register({ id: "tiny", name: "tiny", capabilities: ["generate"], source: { type: "local", url: modelUrl } });
  await rt.flush();
  return {
    restoredAtStart,
    ok: { status: ok.results.map((r) => [r.action_id, r.status]), doubled: ok.results.find((r) => r.action_id === "d")?.output },
    aborted: aborted.results.map((r) => [r.action_id, r.status, r.rolled_back ?? false]),
    state: rt.state.snapshot(),
    events: rt.events.all(),
    factId,
    checkpointId: cp.checkpoint_id,
  };
}

/** After the reload: everything from phase 1 is read back, then the runtime goes on from there. */
async function phase2(): Promise<Json> {
  const car = await createBrowserRuntime({ dbName: DB });
  const rt = car.runtime;
  registerTools(car);
  const restored = rt.restored;
  const state = rt.state.snapshot();
  const events = rt.events.all();
  const journal = await rt.journal.readAll();
  const chain = await rt.events.verifyChain();
  const checkpoints = await rt.listStoredCheckpoints();
  const mem = await car.memory.get();
  const hits = (await mem.query("what does the user drink", 3)).map((h) => h.node.id);
  const engine = await createBrowserInferenceEngine({ storage: car.storage });
  const models = engine.registry.list().map((m) => m.id);
  // Go on from the restored state: a proposal that reads what phase 1 wrote.
  const next = await rt.executeProposal({
    id: "p-next",
    actions: [
      { id: "r", type: "state_read", parameters: { key: "doubled" } },
      { id: "d", type: "tool_call", tool: "double", parameters: { n: "$r.output" }, dependencies: ["r"] },
      { id: "w", type: "state_write", parameters: { key: "quadrupled", value: "$d.output.doubled" }, dependencies: ["d"] },
    ],
  });
  const verified = verify({ actions: [{ id: "x", type: "tool_call", tool: "double", parameters: { n: 1 } }] }, { tools: rt.toolSchemas() }).valid;
  const restoredCp = await rt.restoreStoredCheckpoint(checkpoints[0]!);
  const afterRestore = rt.state.snapshot();
  await car.close();
  const closedError = await rt.executeProposal({ actions: [] }).then(() => null, errorOf);
  // Reopen once more in the same page: the runtime's own close path also persisted everything.
  const again = await createBrowserRuntime({ dbName: DB });
  const reopened = { restored: again.runtime.restored, state: again.runtime.state.snapshot(), chain: await again.runtime.events.verifyChain() };
  await again.close();
  const databases = (await indexedDB.databases()).map((d) => d.name).sort();
  return {
    restored,
    state,
    events,
    journalLength: journal.length,
    chain,
    checkpoints,
    hits,
    models,
    next: { status: next.results.map((r) => r.status), quadrupled: next.results.find((r) => r.action_id === "w")?.status },
    verified,
    restoredCp,
    afterRestore,
    closedError,
    reopened,
    databases,
    clientIsAClass: typeof CarClient === "function",
  };
}

/** The WebGPU backend in the page: a tiny Llama from the test server, greedy. */
async function generate(modelUrl: string, prompt: string, maxTokens: number): Promise<Json> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return { skipped: "no WebGPU adapter in this Chromium" };
  const engine = await createBrowserInferenceEngine({ webgpu: { maxContext: 96 }, webLlm: false });
  try {
    await engine.registry.register({ id: "tiny", name: "tiny", capabilities: ["generate"], source: { type: "local", url: modelUrl } });
    const r = await engine.generate({ model: "tiny", prompt, max_tokens: maxTokens, temperature: 0 });
    const missing = await engine.registry.register({ id: "gone", name: "gone", capabilities: ["generate"], source: { type: "local", url: modelUrl.replace(/tiny\/$/, "missing/") } });
    const notFound = await engine.generate({ model: missing.id, prompt: "x" }).then(() => null, errorOf);
    return { text: r.text, completionTokens: r.usage?.completion_tokens, notFound };
  } finally {
    await engine.close();
  }
}

/** CarClient from the page against a daemon: a tool the daemon calls back into the page. */
async function client(url: string, token: string, encoding: "json" | "msgpack"): Promise<Json> {
  const c = new CarClient({ url, token, encoding, reconnect: false });
  try {
    await c.toolsRegister([{ name: "add" }]);
    const result = await c.submitProposal(
      {
        actions: [
          { id: "sum", type: "tool_call", tool: "add", parameters: { a: 2, b: 3 } },
          { id: "save", type: "state_write", parameters: { key: "total", value: "$sum.output" } },
        ],
      },
      { onToolCall: (call) => Number(call.params?.["a"]) + Number(call.params?.["b"]) + (typeof document === "object" ? 100 : 0) },
    );
    return { statuses: result.results.map((r) => r.status), total: await c.stateGet("total") };
  } catch (err) {
    return { error: errorOf(err) };
  } finally {
    c.close();
  }
}

declare global {
  // eslint-disable-next-line no-var
  var carPage: { phase1: typeof phase1; phase2: typeof phase2; generate: typeof generate; client: typeof client };
}
globalThis.carPage = { phase1, phase2, generate, client };
