import { z } from "zod";

/** When a task runs: `once` (immediately, a single time), `interval` (every `schedule`, e.g. "5m"), `cron` (5-field `schedule`, UTC), `manual` (only when asked). */
export const TaskTriggerSchema = z.enum(["once", "interval", "cron", "manual"]);
export type TaskTrigger = z.infer<typeof TaskTriggerSchema>;

/** Status of a task, and of one execution (`running`, `completed`, `failed`). */
export const TaskStatusSchema = z.enum(["pending", "running", "completed", "failed", "scheduled", "disabled"]);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

/** Task ids appear in storage keys, so they are restricted to a safe alphabet. */
export const TaskIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "task id: 1-128 of A-Z a-z 0-9 . _ : -");

/** One run of a task. `occurrence_id` names the scheduled occurrence it serviced (unique per manual run). */
export const TaskExecutionSchema = z.object({
  execution_id: z.string(),
  occurrence_id: z.string(),
  /** The occurrence's scheduled time (RFC 3339); null for manual runs. */
  scheduled_for: z.string().nullable(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  status: TaskStatusSchema,
  answer: z.string(),
  error: z.string().nullable(),
  duration_ms: z.number().nullable(),
});
export type TaskExecution = z.infer<typeof TaskExecutionSchema>;

/** A persistent prompt with a trigger (reference §8). `history` is read from Storage, newest last. */
export const TaskSchema = z.object({
  id: TaskIdSchema,
  name: z.string().min(1),
  prompt: z.string(),
  trigger: TaskTriggerSchema,
  schedule: z.string().nullable(),
  system_prompt: z.string().nullable(),
  status: TaskStatusSchema,
  created_at: z.string(),
  history: z.array(TaskExecutionSchema),
});
export type Task = z.infer<typeof TaskSchema>;

/** What `createTask` / `scheduler.create` take. */
export const CreateTaskParamsSchema = z.object({
  id: TaskIdSchema.optional(),
  name: z.string().min(1),
  prompt: z.string(),
  trigger: z.string().default("manual"),
  schedule: z.string().nullish(),
  system_prompt: z.string().nullish(),
});
export type CreateTaskParams = z.input<typeof CreateTaskParamsSchema>;

/** A task as posted back by a client (`scheduler.run {task}`): status, created_at and history may be left out. */
export const TaskInputSchema = TaskSchema.extend({
  trigger: z.string(),
  schedule: z.string().nullish(),
  system_prompt: z.string().nullish(),
  status: TaskStatusSchema.optional(),
  created_at: z.iso.datetime({ offset: true }).optional(),
  history: z.array(z.unknown()).optional(),
});
export type TaskInput = z.input<typeof TaskInputSchema>;
