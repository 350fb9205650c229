import { CanceledError, CarError, messageOf } from "../errors.ts";
import { reasonOf, sleep, systemClock, type Clock } from "../engine/clock.ts";
import { hexId, systemRandom, uuidFrom, type Random } from "../engine/random.ts";
import { parseWith } from "../ir/parse.ts";
import type { Storage } from "../storage/storage.ts";
import { nextCronTime } from "./cron.ts";
import { manualOccurrence, nextOccurrenceAfter, occurrenceAt, scheduleOf, type Occurrence } from "./occurrences.ts";
import { CreateTaskParamsSchema, TaskInputSchema, TaskTriggerSchema, type CreateTaskParams, type Task, type TaskExecution, type TaskInput } from "./schemas.ts";
import { TaskStore, type TaskDefinition } from "./store.ts";

/** Runs a task's prompt and resolves with the answer. It must stop when `signal` aborts. */
export type TaskExecutor = (task: Task, context: { signal: AbortSignal; occurrence_id: string; scheduled_for: string | null }) => Promise<string>;

const DEFINITION_FIELDS = ["name", "prompt", "trigger", "schedule", "system_prompt"] as const;

/** Defaults of the settings below. */
export const SCHEDULER_DEFAULTS = { leaseMs: 30 * 60_000, maxHistory: 1000, minIntervalMs: 1000, maxIterations: 10 } as const;

/** Settings of a Scheduler. */
export interface SchedulerOptions {
  /** Where tasks, history and leases live; schedulers sharing one never both run an occurrence. */
  storage: Storage;
  /** Default executor (a call may pass its own). */
  executor?: TaskExecutor;
  clock?: Clock;
  random?: Random;
  /** Names this scheduler in leases (default: random). */
  owner?: string;
  /** How long a started occurrence stays claimed if its scheduler dies (default 30 min); runs longer than this may be taken over. */
  leaseMs?: number;
  /** Executions kept per task; older ones are deleted (default 1000). */
  maxHistory?: number;
  /** Shortest accepted interval (default 1000 ms). */
  minIntervalMs?: number;
}

/** Options of `runTask` / `runTaskLoop`. */
export interface RunTaskOptions {
  signal?: AbortSignal;
  executor?: TaskExecutor;
}

/** Builds a task object without storing it (the FFI's `createTask`). */
export function buildTask(params: CreateTaskParams, deps: { clock?: Clock; random?: Random; minIntervalMs?: number } = {}): Task {
  const p = parseWith(CreateTaskParamsSchema, params, "task", "scheduler");
  const trigger = checkTrigger(p.trigger);
  const schedule = trigger === "interval" || trigger === "cron" ? (p.schedule ?? null) : null;
  const now = (deps.clock ?? systemClock).now();
  const { cron } = scheduleOf({ trigger, schedule }, deps.minIntervalMs ?? SCHEDULER_DEFAULTS.minIntervalMs);
  if (cron && nextCronTime(cron, now) === undefined) throw new CarError("invalid_input", "scheduler", `cron schedule "${schedule}" never fires`);
  return {
    id: p.id ?? `task-${hexId(deps.random ?? systemRandom, 12)}`,
    name: p.name,
    prompt: p.prompt,
    trigger,
    schedule,
    system_prompt: p.system_prompt ?? null,
    status: trigger === "interval" || trigger === "cron" ? "scheduled" : "pending",
    created_at: new Date(now).toISOString(),
    history: [],
  };
}

function checkTrigger(t: string) {
  if (t === "file_watch") throw new CarError("unsupported", "scheduler", 'trigger "file_watch" is not supported; use "once", "interval", "cron" or "manual"');
  const res = TaskTriggerSchema.safeParse(t);
  if (!res.success) throw new CarError("invalid_input", "scheduler", `unknown trigger "${t}"; use "once", "interval", "cron" or "manual"`);
  return res.data;
}

/**
 * Persistent tasks and their executions over a Storage. Each scheduled occurrence has a
 * deterministic id; asking again for a serviced occurrence returns the earlier execution, also
 * from another Scheduler over the same Storage (after a restart, or beside this one).
 */
export class Scheduler {
  private readonly store: TaskStore;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly owner: string;
  private readonly o: Required<Pick<SchedulerOptions, "leaseMs" | "maxHistory" | "minIntervalMs">>;
  private readonly executor: TaskExecutor | undefined;
  private readonly running = new Map<string, Set<AbortController>>();

  constructor(options: SchedulerOptions) {
    this.store = new TaskStore(options.storage);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.owner = options.owner ?? `scheduler-${hexId(this.random, 12)}`;
    this.executor = options.executor;
    this.o = {
      leaseMs: options.leaseMs ?? SCHEDULER_DEFAULTS.leaseMs,
      maxHistory: options.maxHistory ?? SCHEDULER_DEFAULTS.maxHistory,
      minIntervalMs: options.minIntervalMs ?? SCHEDULER_DEFAULTS.minIntervalMs,
    };
  }

  /** Creates and stores a task (trigger `manual` unless given). */
  async createTask(params: CreateTaskParams): Promise<Task> {
    const task = buildTask(params, { clock: this.clock, random: this.random, minIntervalMs: this.o.minIntervalMs });
    if (await this.store.getTask(task.id)) throw new CarError("conflict", "scheduler", `task "${task.id}" already exists`);
    await this.store.putTask(task);
    return task;
  }

  /** A stored task with its history, or undefined. */
  async getTask(id: string): Promise<Task | undefined> {
    const def = await this.store.getTask(id);
    return def && { ...def, history: await this.store.history(id) };
  }

  /** Every stored task with its history, by id. */
  async list(): Promise<Task[]> {
    const out: Task[] = [];
    for (const id of await this.store.taskIds()) {
      const t = await this.getTask(id);
      if (t) out.push(t);
    }
    return out;
  }

  /**
   * Disables a task: its loops stop, its running executions here are aborted, and it no longer
   * runs. Returns false for an unknown task.
   */
  async cancel(id: string): Promise<boolean> {
    const def = await this.store.getTask(id);
    if (!def) return false;
    await this.store.putTask({ ...def, status: "disabled" });
    for (const ctl of this.running.get(id) ?? []) ctl.abort(new CanceledError("scheduler", `task ${id} cancelled`));
    return true;
  }

  /**
   * Runs the task's current occurrence once (see `occurrenceAt`). A serviced occurrence returns its
   * earlier execution; one being run by another scheduler returns that execution as `running`.
   * `task` may be an id or a task object (stored if new; its stored history is authoritative).
   */
  async runTask(task: string | TaskInput, options: RunTaskOptions = {}): Promise<TaskExecution> {
    const t = await this.resolve(task);
    return (await this.service(t, options)).execution;
  }

  /**
   * Services occurrences as they fall due on the clock until `maxIterations` executions ran here
   * (default 10), the task is disabled, or `signal` aborts. `once` stops after its single run;
   * `manual` runs back to back. Missed occurrences collapse into the latest one.
   */
  async runTaskLoop(task: string | TaskInput, options: RunTaskOptions & { maxIterations?: number } = {}): Promise<TaskExecution[]> {
    const max = options.maxIterations ?? SCHEDULER_DEFAULTS.maxIterations;
    const id = (await this.resolve(task)).id;
    const out: TaskExecution[] = [];
    while (out.length < max && !options.signal?.aborted) {
      const def = await this.store.getTask(id);
      if (!def || def.status === "disabled") break;
      const t: Task = { ...def, history: [] };
      const now = this.clock.now();
      const occ = this.occurrence(t, now);
      if (occ.at >= Date.parse(t.created_at) || t.trigger === "manual") {
        const { execution, fresh } = await this.service(t, options, occ);
        if (fresh) {
          out.push(execution);
          if (t.trigger === "once") break;
          continue;
        }
        if (t.trigger === "once") {
          if (out.length === 0) out.push(execution);
          break;
        }
      }
      const next = nextOccurrenceAfter(t, now, this.o.minIntervalMs);
      if (next === undefined) break;
      try {
        await sleep(this.clock, next - now, options.signal);
      } catch {
        break;
      }
    }
    return out;
  }

  private occurrence(t: Task, now: number): Occurrence {
    if (t.trigger === "manual") return manualOccurrence(t, now, uuidFrom(this.random));
    // A cron schedule that never fired yet has no current occurrence; the next firing stands in.
    return occurrenceAt(t, now, this.o.minIntervalMs) ?? { id: `${t.id}:${t.trigger}:never`, key: "never", at: -Infinity };
  }

  /** The task to run, without its history (executors get the definition only). */
  private async resolve(task: string | TaskInput): Promise<Task> {
    if (typeof task === "string") {
      const def = await this.store.getTask(task);
      if (!def) throw new CarError("not_found", "scheduler", `no task "${task}"`);
      return { ...def, history: [] };
    }
    const p = parseWith(TaskInputSchema, task, "task", "scheduler");
    const stored = await this.store.getTask(p.id);
    const built = buildTask({ id: p.id, name: p.name, prompt: p.prompt, trigger: p.trigger, schedule: p.schedule, system_prompt: p.system_prompt }, {
      clock: this.clock, random: this.random, minIntervalMs: this.o.minIntervalMs,
    });
    // The stored creation time anchors the schedule and the stored status wins (a cancelled task stays so).
    const def: TaskDefinition = { ...built, created_at: stored?.created_at ?? p.created_at ?? built.created_at, status: stored?.status ?? p.status ?? built.status };
    if (!stored || DEFINITION_FIELDS.some((k) => stored[k] !== def[k])) await this.store.putTask(def);
    return { ...def, history: [] };
  }

  private async service(t: Task, options: RunTaskOptions, given?: Occurrence): Promise<{ execution: TaskExecution; fresh: boolean }> {
    if (t.status === "disabled") throw new CarError("conflict", "scheduler", `task "${t.id}" is disabled`);
    const executor = options.executor ?? this.executor;
    if (!executor) throw new CarError("invalid_input", "scheduler", "no task executor: pass one to the Scheduler or to this call");
    const executionId = uuidFrom(this.random);
    const occ = given ?? this.occurrence(t, this.clock.now());
    const startedAt = new Date(this.clock.now()).toISOString();
    if (t.trigger !== "manual") {
      const prior = await this.store.getExecution(t.id, occ.key);
      if (prior) return { execution: prior, fresh: false };
      if (!(await this.store.acquire(t.id, occ.key, { owner: this.owner, execution_id: executionId, started_at: startedAt }, this.o.leaseMs))) {
        const done = await this.store.getExecution(t.id, occ.key);
        if (done) return { execution: done, fresh: false };
        const lease = await this.store.lease(t.id, occ.key);
        return { execution: this.record(occ, lease?.execution_id ?? executionId, lease?.started_at ?? startedAt, "running", "", null), fresh: false };
      }
      // The holder before us may have finished and released between our two reads.
      const done = await this.store.getExecution(t.id, occ.key);
      if (done) return { execution: done, fresh: false };
    }
    return { execution: await this.execute(t, occ, executor, executionId, startedAt, options.signal), fresh: true };
  }

  private async execute(t: Task, occ: Occurrence, executor: TaskExecutor, executionId: string, startedAt: string, signal?: AbortSignal): Promise<TaskExecution> {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(new CanceledError("scheduler", reasonOf(signal!)));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    const set = this.running.get(t.id) ?? new Set();
    this.running.set(t.id, set.add(ctl));
    await this.setStatus(t.id, "running");
    const t0 = this.clock.now();
    let answer = "";
    let error: string | null = null;
    try {
      const res = await raceAbort(Promise.resolve().then(() => executor(t, { signal: ctl.signal, occurrence_id: occ.id, scheduled_for: scheduledFor(occ) })), ctl.signal);
      if (typeof res !== "string") throw new CarError("invalid_input", "scheduler", `executor returned ${res === null ? "null" : typeof res}, expected a string answer`);
      answer = res;
    } catch (err) {
      error = ctl.signal.aborted ? `canceled: ${reasonOf(ctl.signal)}` : messageOf(err);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      set.delete(ctl);
      if (set.size === 0) this.running.delete(t.id);
    }
    const finished = this.clock.now();
    const exec = this.record(occ, executionId, startedAt, error === null ? "completed" : "failed", answer, error, new Date(finished).toISOString(), finished - t0);
    await this.store.putExecution(t.id, occ.key, exec);
    if (t.trigger !== "manual") await this.store.release(t.id, occ.key);
    await this.store.prune(t.id, this.o.maxHistory);
    await this.setStatus(t.id, t.trigger === "interval" || t.trigger === "cron" ? "scheduled" : exec.status);
    return exec;
  }

  private record(occ: Occurrence, executionId: string, startedAt: string, status: TaskExecution["status"], answer: string, error: string | null, finishedAt: string | null = null, durationMs: number | null = null): TaskExecution {
    return {
      execution_id: executionId, occurrence_id: occ.id, scheduled_for: scheduledFor(occ),
      started_at: startedAt, finished_at: finishedAt, status, answer, error, duration_ms: durationMs,
    };
  }

  private async setStatus(id: string, status: Task["status"]): Promise<void> {
    const def = await this.store.getTask(id);
    // A cancel that landed meanwhile must not be undone.
    if (def && def.status !== "disabled" && def.status !== status) await this.store.putTask({ ...def, status });
  }
}

/** The occurrence's scheduled time; null for manual runs. */
function scheduledFor(occ: Occurrence): string | null {
  return occ.key.startsWith("m") || !Number.isFinite(occ.at) ? null : new Date(occ.at).toISOString();
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // An executor that ignores its signal must not keep the scheduler waiting.
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
