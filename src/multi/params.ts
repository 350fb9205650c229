import { z } from "zod";
import { AgentSpecSchema, BudgetLimitsSchema } from "./schemas.ts";

/** Most agents (agents, stages, workers, competitors) one pattern call accepts. */
export const MAX_AGENTS_PER_CALL = 256;
/** Most items one `map_reduce` call accepts. */
export const MAX_MAP_ITEMS = 10_000;
/** Upper bound of `max_rounds` (supervisor) and `rounds` (debate). */
export const MAX_ROUNDS = 50;

const agentList = z.array(AgentSpecSchema).min(1).max(MAX_AGENTS_PER_CALL);
const uniqueNames = (list: ReadonlyArray<{ name: string }>) => new Set(list.map((a) => a.name)).size === list.length;
const budget = BudgetLimitsSchema.nullish();
const maxConcurrency = z.number().int().positive().optional();

/** Swarm modes. `hybrid`: the first half answers in parallel, the rest in sequence seeing every earlier answer. */
export const SwarmModeSchema = z.enum(["parallel", "sequential", "debate", "hybrid"]);
export type SwarmMode = z.infer<typeof SwarmModeSchema>;

/** `multi.swarm` params. */
export const SwarmParamsSchema = z.object({
  mode: SwarmModeSchema.default("parallel"),
  agents: agentList,
  task: z.string(),
  synthesizer: AgentSpecSchema.nullish(),
  budget,
  /** Debate only: rounds including the opening one (default 2). */
  rounds: z.number().int().min(1).max(MAX_ROUNDS).default(2),
  max_concurrency: maxConcurrency,
});
export type SwarmParams = z.input<typeof SwarmParamsSchema>;

/** `multi.pipeline` params. */
export const PipelineParamsSchema = z.object({ stages: agentList, task: z.string(), budget });
export type PipelineParams = z.input<typeof PipelineParamsSchema>;

/** `multi.supervisor` params. Worker names must be unique: the supervisor routes by name. */
export const SupervisorParamsSchema = z.object({
  workers: agentList.refine(uniqueNames, "worker names must be unique"),
  supervisor: AgentSpecSchema,
  task: z.string(),
  max_rounds: z.number().int().min(1).max(MAX_ROUNDS).default(3),
  budget,
  max_concurrency: maxConcurrency,
});
export type SupervisorParams = z.input<typeof SupervisorParamsSchema>;

/** `multi.map_reduce` params. */
export const MapReduceParamsSchema = z.object({
  mapper: AgentSpecSchema,
  reducer: AgentSpecSchema,
  items: z.array(z.string()).max(MAX_MAP_ITEMS),
  task: z.string(),
  budget,
  max_concurrency: maxConcurrency,
});
export type MapReduceParams = z.input<typeof MapReduceParamsSchema>;

/** `multi.vote` params. */
export const VoteParamsSchema = z.object({ agents: agentList, task: z.string(), synthesizer: AgentSpecSchema.nullish(), budget, max_concurrency: maxConcurrency });
export type VoteParams = z.input<typeof VoteParamsSchema>;

/** `multi.tournament` params. Competitor names must be unique: matches and ranking name them. */
export const TournamentParamsSchema = z.object({
  competitors: agentList.refine(uniqueNames, "competitor names must be unique"),
  judge: AgentSpecSchema,
  task: z.string(),
  budget,
  max_concurrency: maxConcurrency,
});
export type TournamentParams = z.input<typeof TournamentParamsSchema>;
