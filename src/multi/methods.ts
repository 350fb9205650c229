import type { Clock } from "../engine/clock.ts";
import type { EventLog } from "../engine/event-log.ts";
import type { Random } from "../engine/random.ts";
import type { MultiOptions } from "./coordinator.ts";
import { mapReduce } from "./map-reduce.ts";
import type { MethodEntry } from "../protocol/methods.ts";
import {
  MapReduceParamsSchema, PipelineParamsSchema, SupervisorParamsSchema, SwarmParamsSchema, TournamentParamsSchema, VoteParamsSchema,
} from "./params.ts";
import { pipeline } from "./pipeline.ts";
import type { AgentRunner } from "./runner.ts";
import { supervisor } from "./supervisor.ts";
import { swarm } from "./swarm.ts";
import { tournament } from "./tournament.ts";
import { vote } from "./vote.ts";

/** What the daemon supplies to the `multi.*` handlers for one call. */
export interface MultiMethodContext {
  /** Over the daemon: `clientAgentRunner(...)` bound to the calling connection's `multi.run_agent` callback. */
  runner: AgentRunner;
  /** The session's event log (agent turns are recorded there). */
  events?: EventLog;
  clock?: Clock;
  random?: Random;
  /** Aborts when the request is abandoned (connection closed, deadline). */
  signal?: AbortSignal;
}

/**
 * The daemon methods `multi.swarm|pipeline|supervisor|map_reduce|vote|tournament`. `getCtx` turns
 * the daemon's per-call context into the runner, event log and signal to use.
 */
export function multiMethods<C>(getCtx: (ctx: C) => MultiMethodContext) {
  const opts = (ctx: C): MultiOptions => {
    const m = getCtx(ctx);
    return { runner: m.runner, events: m.events, clock: m.clock, random: m.random, signal: m.signal };
  };
  return {
    "multi.swarm": { params: SwarmParamsSchema, handler: async (p, ctx) => swarm(p, opts(ctx)) },
    "multi.pipeline": { params: PipelineParamsSchema, handler: async (p, ctx) => pipeline(p, opts(ctx)) },
    "multi.supervisor": { params: SupervisorParamsSchema, handler: async (p, ctx) => supervisor(p, opts(ctx)) },
    "multi.map_reduce": { params: MapReduceParamsSchema, handler: async (p, ctx) => mapReduce(p, opts(ctx)) },
    "multi.vote": { params: VoteParamsSchema, handler: async (p, ctx) => vote(p, opts(ctx)) },
    "multi.tournament": { params: TournamentParamsSchema, handler: async (p, ctx) => tournament(p, opts(ctx)) },
  } satisfies {
    "multi.swarm": MethodEntry<C, typeof SwarmParamsSchema>;
    "multi.pipeline": MethodEntry<C, typeof PipelineParamsSchema>;
    "multi.supervisor": MethodEntry<C, typeof SupervisorParamsSchema>;
    "multi.map_reduce": MethodEntry<C, typeof MapReduceParamsSchema>;
    "multi.vote": MethodEntry<C, typeof VoteParamsSchema>;
    "multi.tournament": MethodEntry<C, typeof TournamentParamsSchema>;
  };
}
