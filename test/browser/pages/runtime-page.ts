/**
 * Runs in Chromium (bundled by chromium.test.ts): the `car-server/browser` entry executes
 * proposals with IndexedDB persistence; after a reload the second phase reads everything back.
 * Results go back to the test as JSON from `globalThis.carPage.*`.
 */
import { CarClient, CarError, createBrowserInferenceEngine, createBrowserRuntime, readJournal, verify, type Runtime } from "../../../runtimes/browser.ts";

const DB = "car-browser-test";

type Json = unknown;

function errorOf(err: unknown): { code?: string; message: string } {
  return err instanceof CarError ? { code: err.code, message: err.message } : { message: String((err as Error)?.message ?? err) };
}

/** The page's tools; before the reload `slow` never answers (the tab "dies" while it runs). */
function tools(slowAnswers: boolean, called: () => void = () => {}) {
  return (rt: Runtime) => {
    rt.registerTool({ name: "double" }, (p) => ({ doubled: (p["n"] as number) * 2 }));
    rt.registerTool({ name: "refuse" }, () => {
      throw new Error("refused in the page");
    });
    rt.registerTool({ name: "slow" }, () => (called(), slowAnswers ? "finished after the reload" : new Promise(() => {})));
  };
}

/**
 * First visit: a proposal, an aborted one, a direct write, memory, a checkpoint, a model
 * registration, then a proposal left running. No close: the reload tears the page down.
 */
async function phase1(modelUrl: string): Promise<Json> {
  let slowCalled!: () => void;
  const slow = new Promise<void>((r) => (slowCalled = r));
  const car = await createBrowserRuntime({ dbName: DB, setup: tools(false, () => slowCalled()) });
  const rt = car.runtime;
  const recoveryAtStart = car.recovery;
  rt.events.enableChain();
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
  const cp = await car.storeCheckpoint({ label: "after the proposals" });
  const engine = await createBrowserInferenceEngine({ storage: car.storage });
  await engine.registry.register({ id: "tiny", name: "tiny", capabilities: ["generate"], source: { type: "local", url: modelUrl } });
  const state = rt.state.snapshot();
  // Left running: its first step is durable, its second never answers before the reload.
  void rt.executeProposal({
    id: "p-resume",
    actions: [
      { id: "first", type: "state_write", parameters: { key: "started", value: true } },
      { id: "wait", type: "tool_call", tool: "slow", dependencies: ["first"] },
      { id: "last", type: "state_write", parameters: { key: "resumed", value: "$wait.output" }, dependencies: ["wait"] },
    ],
  });
  await slow;
  await rt.flushJournal();
  return {
    recoveryAtStart,
    ok: { status: ok.results.map((r) => [r.action_id, r.status]), doubled: ok.results.find((r) => r.action_id === "d")?.output },
    aborted: aborted.results.map((r) => [r.action_id, r.status, r.rolled_back ?? false]),
    state,
    events: rt.events.all(),
    factId,
    checkpointId: cp.checkpoint_id,
  };
}

/** After the reload: everything from phase 1 is read back, the running proposal finishes, then the runtime goes on. */
async function phase2(): Promise<Json> {
  let slowCalls = 0;
  const car = await createBrowserRuntime({ dbName: DB, setup: tools(true, () => slowCalls++) });
  const rt = car.runtime;
  const { resumed, ...recovery } = car.recovery;
  const state = rt.state.snapshot();
  const events = rt.events.all();
  const journal = await readJournal(car.log);
  const chain = await rt.events.verifyChain();
  const checkpoints = await car.listCheckpoints();
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
  const restoredCp = await car.restoreCheckpoint(checkpoints[0]!);
  const afterRestore = rt.state.snapshot();
  await car.close();
  const closedError = await rt.executeProposal({ actions: [] }).then(() => null, errorOf);
  // Reopen once more in the same page: everything up to the close was journaled.
  const again = await createBrowserRuntime({ dbName: DB });
  const reopened = { recovery: again.recovery, state: again.runtime.state.snapshot(), chain: await again.runtime.events.verifyChain() };
  await again.close();
  const databases = (await indexedDB.databases()).map((d) => d.name).sort();
  return {
    recovery,
    resumed: resumed.map((r) => ({ ...r, result: r.result?.results.map((x) => [x.action_id, x.status, x.output]) })),
    slowCalls,
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
