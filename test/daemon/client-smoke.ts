// Run on each runtime by the conformance suite: CarClient (URL from CAR_DAEMON_URL, token from the
// token file under CAR_HOME) registers a tool, submits a proposal and answers its tools.execute.
import process from "node:process";
import { CarClient } from "../../adapters/client/node.ts";

const encoding = process.argv[2] === "msgpack" ? "msgpack" : "json";
const client = new CarClient({ encoding });
try {
  await client.toolsRegister([{ name: "add" }]);
  const result = await client.submitProposal(
    {
      actions: [
        { id: "sum", type: "tool_call", tool: "add", parameters: { a: 2, b: 3 } },
        { id: "save", type: "state_write", parameters: { key: "total", value: "$sum.output" } },
      ],
    },
    { onToolCall: (call) => Number(call.params?.["a"]) + Number(call.params?.["b"]) },
  );
  const total = await client.stateGet("total");
  process.stdout.write(JSON.stringify({ statuses: result.results.map((r) => r.status), total, auth: client.auth }) + "\n");
} finally {
  client.close();
}
process.exit(0);
