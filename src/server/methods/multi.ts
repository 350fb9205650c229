import { messageOf } from "../../errors.ts";
import type { EventLog } from "../../engine/event-log.ts";
import { multiMethods } from "../../multi/methods.ts";
import { clientAgentRunner, RUN_AGENT_CANCEL, type AgentRunner, type RunAgentCancelParams } from "../../multi/runner.ts";
import type { Scheduler } from "../../scheduler/scheduler.ts";
import { schedulerMethods } from "../../scheduler/methods.ts";
import type { MethodContext, ServerMethodTable, Session } from "../context.ts";

/**
 * An AgentRunner that runs each agent turn on the session's client: a `multi.run_agent` request
 * (id `cb-N`, params with `request_id` and `session_id`). The tool callback timeout applies; when
 * the daemon stops waiting (that timeout, the run cancelled, the request's deadline) it tells the
 * client with the notification `multi.cancel {request_id, run_id, agent, reason}`.
 */
export function sessionAgentRunner(session: Session, toolTimeoutMs: number): AgentRunner {
  return clientAgentRunner((method, params, { signal }) =>
    session.call(method, (request_id: string) => ({ ...params, request_id, session_id: session.id }), {
      signal,
      timeoutMs: toolTimeoutMs,
      onCancel: (request_id, reason) =>
        session.notify(RUN_AGENT_CANCEL, { request_id, run_id: params.run_id, agent: params.spec.name, reason } satisfies RunAgentCancelParams),
    }),
  );
}

/**
 * Records a scheduled task's agent turn in the session's event log, as the patterns do for theirs
 * (`worker_started` / `turn_completed`, pattern `scheduler`, role `task`, run_id = occurrence id).
 */
function recordingRunner(runner: AgentRunner, events: EventLog): AgentRunner {
  let seq = 0;
  return async (spec, task, ctx) => {
    const tags = { run_id: ctx.run_id, action_id: `${ctx.run_id}:${++seq}` };
    const base = { pattern: ctx.pattern, agent: spec.name, role: ctx.role };
    events.append({ ...tags, kind: "worker_started", data: base });
    try {
      const out = await runner(spec, task, ctx);
      const o = (typeof out === "object" && out !== null ? out : {}) as Record<string, unknown>;
      events.append({ ...tags, kind: "turn_completed", data: { ...base, answer: o["answer"], error: o["error"] ?? null } });
      return out;
    } catch (err) {
      events.append({ ...tags, kind: "turn_completed", data: { ...base, error: messageOf(err) } });
      throw err;
    }
  };
}

/** Methods that need a client to call back: not offered over `POST /rpc`. */
function wsOnly(table: ServerMethodTable, names: readonly string[]): ServerMethodTable {
  const out: ServerMethodTable = { ...table };
  for (const n of names) out[n] = { ...table[n]!, http: false };
  return out;
}

/** `multi.swarm|pipeline|supervisor|map_reduce|vote|tournament`, each agent turn run by the calling client. */
export function multiServerMethods(): ServerMethodTable {
  const table: ServerMethodTable = multiMethods((ctx: MethodContext) => ({
    runner: sessionAgentRunner(ctx.session, ctx.server.settings.toolTimeoutMs),
    events: ctx.session.runtime.events,
    clock: ctx.session.runtime.clock,
    signal: ctx.signal,
  }));
  return wsOnly(table, Object.keys(table));
}

/**
 * `scheduler.create|run|run_loop|list|cancel` over the daemon's one Scheduler. A task's agent turn
 * runs on the client that asked for the run (`multi.run_agent`, pattern `scheduler`, role `task`).
 */
export function schedulerServerMethods(scheduler: Scheduler): ServerMethodTable {
  const table: ServerMethodTable = schedulerMethods((ctx: MethodContext) => ({
    scheduler,
    runner: recordingRunner(sessionAgentRunner(ctx.session, ctx.server.settings.toolTimeoutMs), ctx.session.runtime.events),
    signal: ctx.signal,
  }));
  return wsOnly(table, ["scheduler.run", "scheduler.run_loop"]);
}
