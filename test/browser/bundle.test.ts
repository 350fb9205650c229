/**
 * Guards the browser build: `runtimes/browser.ts` (and the server app, which edge runtimes load)
 * must bundle for `platform: "browser"` without reaching a Node built-in or a Node global, and no
 * file under src/ may use one at all.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ROOT, bundleForBrowser, nodeGlobalsIn, ownInputs } from "./bundle.ts";

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.name.endsWith(".ts")) out.push(relative(ROOT, p));
  }
  return out.sort();
}

test("car-server/browser bundles for the browser without Node built-ins or Node globals", async () => {
  const b = await bundleForBrowser({ browser: join(ROOT, "runtimes/browser.ts"), server: join(ROOT, "src/server/index.ts") });
  assert.deepEqual(b.errors, [], "esbuild errors (a package reaching a Node built-in?)");
  assert.deepEqual(b.nodeImports, [], "our files import Node built-ins");
  const own = ownInputs(b.metafile);
  for (const f of ["runtimes/browser-runtime.ts", "src/engine/runtime.ts", "src/client/car-client.ts", "adapters/storage/indexeddb.ts", "adapters/inference/webgpu/backend.ts", "adapters/inference/web-llm.ts"]) {
    assert.ok(own.includes(f), `${f} is in the bundle`);
  }
  assert.deepEqual(await nodeGlobalsIn(own), [], "files in the bundle use Node globals");
  // web-llm (~7 MB) is imported lazily: it is a chunk of its own, not part of the entry.
  const entry = Object.entries(b.metafile.outputs).find(([, o]) => o.entryPoint === "runtimes/browser.ts" || o.entryPoint?.endsWith("/runtimes/browser.ts"));
  assert.ok(entry, "the browser entry was written");
  assert.equal(Object.keys(entry[1].inputs).some((p) => p.includes("@mlc-ai/web-llm")), false, "web-llm is not in the entry chunk");
  assert.ok(entry[1].imports.some((i) => i.kind === "dynamic-import"), "web-llm is a dynamic import");
});

test("no file under src/ uses a Node global", async () => {
  const files = await walk(join(ROOT, "src"));
  assert.ok(files.length > 50);
  assert.deepEqual(await nodeGlobalsIn(files), []);
});

test("the guard catches a Node import, a Node global and a package without a browser build", async () => {
  const dir = await mkdtemp(join(tmpdir(), "car-bundle-"));
  try {
    await writeFile(join(dir, "leak.ts"), [
      'import { readFileSync } from "node:fs";',
      'import { join } from "path";',
      "// process and Buffer in a comment do not count",
      'const s = "process.env";',
      "function local(process: { env: object }) { return process.env; }",
      "export const a = () => [readFileSync, join, s, local, process.env.HOME, typeof Buffer, (globalThis as { Deno?: unknown }).Deno];",
    ].join("\n"));
    const b = await bundleForBrowser({ leak: join(dir, "leak.ts") });
    assert.deepEqual(b.nodeImports.map((i) => i.path).sort(), ["node:fs", "path"]);
    assert.deepEqual(await nodeGlobalsIn([join(dir, "leak.ts")]), [{ file: join(dir, "leak.ts"), globals: ["process", "Buffer", "Deno"] }]);
    // A dependency that needs Node (ws's server side) cannot be bundled for a browser.
    await writeFile(join(dir, "dep.ts"), `import { WebSocketServer } from ${JSON.stringify(join(ROOT, "node_modules/ws/lib/websocket-server.js"))};\nexport const w = WebSocketServer;\n`);
    const d = await bundleForBrowser({ dep: join(dir, "dep.ts") });
    assert.ok(d.errors.some((e) => /built into node|Could not resolve/.test(e)), d.errors.join("\n"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const built = existsSync(join(ROOT, "dist/runtimes/browser.js"));

test("`car-server/browser` resolves for browsers to the built entry, which bundles clean", { skip: built ? false : "dist/ not built (npm run build)" }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "car-consumer-"));
  try {
    // A consumer project with the package installed (a link to this checkout).
    await mkdir(join(dir, "node_modules"));
    await symlink(ROOT, join(dir, "node_modules", "car-server"), "dir");
    await writeFile(join(dir, "app.js"), 'import { createBrowserRuntime, CarClient, Runtime } from "car-server/browser";\nexport const all = [createBrowserRuntime, CarClient, Runtime];\n');
    const b = await bundleForBrowser({ app: join(dir, "app.js") });
    assert.deepEqual(b.errors, []);
    assert.deepEqual(b.nodeImports, []);
    const inputs = Object.keys(b.metafile.inputs);
    assert.ok(inputs.some((p) => p.endsWith("dist/runtimes/browser.js")), "the browser condition picks dist/runtimes/browser.js");
    assert.equal(inputs.some((p) => /\/(src|adapters|runtimes)\/[^/]+(\/.*)?\.ts$/.test(p) && !p.includes("dist/")), false, "no TypeScript source is bundled");
    const own = ownInputs(b.metafile).filter((p) => !p.startsWith(".."));
    assert.deepEqual(await nodeGlobalsIn(own), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
