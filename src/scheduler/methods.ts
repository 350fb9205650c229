import { z } from "zod";
import type { MethodEntry } from "../protocol/methods.ts";
import type { AgentRunner } from "../multi/runner.ts";
import { executorFromRunner } from "./executor.ts";
import { Scheduler, type RunTaskOptions, type TaskExecutor } from "./scheduler.ts";
import { CreateTaskParamsSchema, TaskIdSchema, TaskInputSchema, type Task } from "./schemas.ts";

/** Most iterations one `scheduler.run_loop` call may ask for. */
export const MAX_LOOP_ITERATIONS = 1000;

const taskRef = { task: TaskInputSchema.optional(), task_id: TaskIdSchema.optional() };
const oneRef = (p: { task?: unknown; task_id?: unknown }) => (p.task === undefined) !== (p.task_id === undefined);
const refMessage = { message: "give exactly one of task (a task object) or task_id", path: ["task"] };

/** `scheduler.run` params: the task posted back (as `scheduler.create` returned it) or its id. */
export const SchedulerRunParamsSchema = z.object(taskRef).refine(oneRef, refMessage);
/** `scheduler.run_loop` params. */
export const SchedulerRunLoopParamsSchema = z
  .object({ ...taskRef, max_iterations: z.number().int().min(1).max(MAX_LOOP_ITERATIONS).default(10) })
  .refine(oneRef, refMessage);
export type SchedulerRunParams = z.input<typeof SchedulerRunParamsSchema>;
export type SchedulerRunLoopParams = z.input<typeof SchedulerRunLoopParamsSchema>;
/** `scheduler.list` params. */
export const SchedulerListParamsSchema = z.object({}).nullish();
/** `scheduler.cancel` params. */
export const SchedulerCancelParamsSchema = z.object({ task_id: TaskIdSchema });
export type SchedulerCancelParams = z.input<typeof SchedulerCancelParamsSchema>;

/** `scheduler.list` result. */
export interface SchedulerListResult {
  tasks: Task[];
  count: number;
}

/** `scheduler.cancel` result: `cancelled` is false for an unknown id. */
export interface SchedulerCancelResult {
  task_id: string;
  cancelled: boolean;
}

/** What the daemon supplies to the `scheduler.*` handlers for one call. */
export interface SchedulerMethodContext {
  /** Shared by every connection (its Storage is the daemon's). */
  scheduler: Scheduler;
  /** Runs tasks as agent turns, e.g. `clientAgentRunner(...)` of the calling connection. */
  runner?: AgentRunner;
  /** Overrides `runner`. */
  executor?: TaskExecutor;
  signal?: AbortSignal;
}

/** The daemon methods `scheduler.create|run|run_loop|list|cancel`. */
export function schedulerMethods<C>(getCtx: (ctx: C) => SchedulerMethodContext) {
  const run = (ctx: C): RunTaskOptions & { s: Scheduler } => {
    const m = getCtx(ctx);
    const executor = m.executor ?? (m.runner ? executorFromRunner(m.runner) : undefined);
    return { s: m.scheduler, ...(executor ? { executor } : {}), ...(m.signal ? { signal: m.signal } : {}) };
  };
  return {
    "scheduler.create": { params: CreateTaskParamsSchema, handler: async (p, ctx) => getCtx(ctx).scheduler.createTask(p) },
    "scheduler.run": {
      params: SchedulerRunParamsSchema,
      handler: async (p, ctx) => {
        const { s, ...o } = run(ctx);
        return s.runTask(p.task ?? p.task_id!, o);
      },
    },
    "scheduler.run_loop": {
      params: SchedulerRunLoopParamsSchema,
      handler: async (p, ctx) => {
        const { s, ...o } = run(ctx);
        return s.runTaskLoop(p.task ?? p.task_id!, { ...o, maxIterations: p.max_iterations });
      },
    },
    "scheduler.list": {
      params: SchedulerListParamsSchema,
      handler: async (_p, ctx) => {
        const tasks = await getCtx(ctx).scheduler.list();
        return { tasks, count: tasks.length } satisfies SchedulerListResult;
      },
    },
    "scheduler.cancel": {
      params: SchedulerCancelParamsSchema,
      handler: async (p, ctx): Promise<SchedulerCancelResult> => ({ task_id: p.task_id, cancelled: await getCtx(ctx).scheduler.cancel(p.task_id) }),
    },
  } satisfies {
    "scheduler.create": MethodEntry<C, typeof CreateTaskParamsSchema>;
    "scheduler.run": MethodEntry<C, typeof SchedulerRunParamsSchema>;
    "scheduler.run_loop": MethodEntry<C, typeof SchedulerRunLoopParamsSchema>;
    "scheduler.list": MethodEntry<C, typeof SchedulerListParamsSchema>;
    "scheduler.cancel": MethodEntry<C, typeof SchedulerCancelParamsSchema>;
  };
}
