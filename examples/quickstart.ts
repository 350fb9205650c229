// Executes a small proposal in-process and prints its result: the library in ten lines.
import { Runtime } from "../src/index.ts";

const rt = new Runtime();
rt.registerTool({ name: "add", description: "adds two numbers", parameters: { type: "object", required: ["a", "b"] } }, (p) => Number(p["a"]) + Number(p["b"]));

const result = await rt.executeProposal({
  source: "quickstart",
  actions: [
    { id: "sum", type: "tool_call", tool: "add", parameters: { a: 2, b: 3 } },
    { id: "save", type: "state_write", parameters: { key: "total", value: "$sum.output" } },
  ],
});
console.log(JSON.stringify(result, null, 2));
console.log("state:", JSON.stringify(rt.state.snapshot()));
