// Profiles the engine's per-node overhead on a 1,000-node chain: `node --import tsx --cpu-prof bench/profile-engine.ts`.
import { Runtime } from "car-server";

const actions = Array.from({ length: 1000 }, (_, i) => ({ id: `n${i}`, type: "tool_call" as const, tool: "noop", dependencies: i ? [`n${i - 1}`] : [] }));
for (let k = 0; k < 40; k++) {
  const rt = new Runtime();
  rt.registerTool({ name: "noop" }, async () => ({}));
  const t0 = performance.now();
  await rt.executeProposal({ actions });
  if (k % 10 === 9) console.log(`run ${k + 1}: ${(performance.now() - t0).toFixed(1)} ms`);
}
