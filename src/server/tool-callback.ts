import { CarError } from "../errors.ts";
import type { ToolExecutor } from "../engine/tools.ts";
import { RpcError } from "../protocol/errors.ts";
import type { ToolsCancelParams, ToolsExecuteParams } from "../protocol/callbacks.ts";
import type { Session } from "./context.ts";

/**
 * Runs tools that have no in-process handler by asking the client: a `tools.execute` request with
 * the arguments under both `parameters` and `params` (clients read either). When the action's
 * signal fires (its `timeout_ms`, a proposal abort, the handler deadline) or the daemon stops
 * waiting (`toolTimeoutMs`), the client gets a `tools.cancel {request_id, action_id, reason}`.
 */
export function remoteToolExecutor(session: Session, toolTimeoutMs: number): ToolExecutor {
  return {
    async execute(call) {
      let result: unknown;
      try {
        result = await session.call(
          "tools.execute",
          (requestId: string): ToolsExecuteParams => ({
            action_id: call.action_id,
            tool: call.tool,
            parameters: call.parameters,
            params: call.parameters,
            attempt: call.attempt,
            request_id: requestId,
            session_id: session.id,
            timeout_ms: call.timeout_ms ?? toolTimeoutMs,
            proposal_id: call.proposal_id,
          }),
          {
            timeoutMs: toolTimeoutMs,
            // The subscription spares an AbortSignal per call; calls from outside the engine have only `signal`.
            ...(call.onAbort ? { subscribeAbort: (fn: (reason: unknown) => void) => call.onAbort!(fn) } : { signal: call.signal }),
            onCancel: (requestId, reason) => session.notify("tools.cancel", { request_id: requestId, action_id: call.action_id, reason } satisfies ToolsCancelParams),
          },
        );
      } catch (err) {
        // The client answered with a JSON-RPC error: that is the tool failing, not the daemon.
        if (err instanceof RpcError && err.component === "client") throw new CarError("tool_error", "client", err.message.replace(/^\[car:[^\]]*\] /, ""), { rpc_code: err.rpcCode });
        throw err;
      }
      // Bindings treat a result object `{error: "..."}` as a tool error too (reference §1.5).
      if (typeof result === "object" && result !== null && !Array.isArray(result) && typeof (result as { error?: unknown }).error === "string") {
        throw new CarError("tool_error", "client", (result as { error: string }).error);
      }
      return result;
    },
  };
}
