// Drives a running daemon (`npm start` in another terminal): registers a tool the client implements,
// submits a proposal, and answers the daemon's tools.execute callback.
import { CarClient } from "car-server/client";

const client = new CarClient(); // CAR_DAEMON_URL, CAR_AUTH_TOKEN or the token file under CAR_HOME
await client.connect();
await client.toolsRegister([{ name: "shell", description: "run a shell command" }]);
const result = await client.submitProposal(
  { actions: [{ id: "a1", type: "tool_call", tool: "shell", parameters: { command: "echo hi" } }] },
  { onToolCall: async (call) => ({ stdout: `ran ${String(call.parameters["command"])}\n`, code: 0 }) },
);
console.log(JSON.stringify(result.results[0]));
client.close();
