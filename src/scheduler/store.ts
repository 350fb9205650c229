import { z } from "zod";
import { CarError } from "../errors.ts";
import type { JsonValue } from "../ir/json.ts";
import type { Storage } from "../storage/storage.ts";
import { TaskExecutionSchema, TaskSchema, type Task, type TaskExecution } from "./schemas.ts";

/** Version of the records below; reading any other version fails closed. */
export const SCHEDULER_RECORD_VERSION = 1;

const TaskRecord = z.object({ v: z.literal(SCHEDULER_RECORD_VERSION), task: TaskSchema.omit({ history: true }) });
const ExecutionRecord = z.object({ v: z.literal(SCHEDULER_RECORD_VERSION), execution: TaskExecutionSchema });
const LeaseRecord = z.object({ v: z.literal(SCHEDULER_RECORD_VERSION), owner: z.string(), execution_id: z.string(), started_at: z.string() });
export type Lease = z.infer<typeof LeaseRecord>;

/** A task without its history, as stored. */
export type TaskDefinition = Omit<Task, "history">;

/**
 * Scheduler records in a Storage: `scheduler/tasks/<id>`, `scheduler/executions/<id>/<occurrence key>`
 * and `scheduler/leases/<id>/<occurrence key>` (compare-and-set with a TTL, so one scheduler runs an occurrence).
 */
export class TaskStore {
  constructor(private readonly storage: Storage, private readonly prefix = "scheduler/") {}

  private taskKey = (id: string) => `${this.prefix}tasks/${id}`;
  private execPrefix = (id: string) => `${this.prefix}executions/${id}/`;
  private leaseKey = (id: string, occ: string) => `${this.prefix}leases/${id}/${occ}`;

  private read<S extends z.ZodType>(schema: S, key: string, raw: unknown): z.infer<S> {
    const res = schema.safeParse(raw);
    if (!res.success) throw new CarError("corrupted", "scheduler", `unreadable scheduler record at "${key}" (expected version ${SCHEDULER_RECORD_VERSION})`, { key });
    return res.data;
  }

  async getTask(id: string): Promise<TaskDefinition | undefined> {
    const key = this.taskKey(id);
    const raw = await this.storage.get(key);
    return raw === undefined ? undefined : this.read(TaskRecord, key, raw).task;
  }

  async putTask(task: TaskDefinition): Promise<void> {
    const { history: _h, ...def } = task as Task;
    await this.storage.set(this.taskKey(task.id), { v: SCHEDULER_RECORD_VERSION, task: def } as unknown as JsonValue);
  }

  async taskIds(): Promise<string[]> {
    const p = `${this.prefix}tasks/`;
    return (await this.storage.list(p)).map((k) => k.slice(p.length));
  }

  async getExecution(id: string, occKey: string): Promise<TaskExecution | undefined> {
    const key = this.execPrefix(id) + occKey;
    const raw = await this.storage.get(key);
    return raw === undefined ? undefined : this.read(ExecutionRecord, key, raw).execution;
  }

  async putExecution(id: string, occKey: string, execution: TaskExecution): Promise<void> {
    await this.storage.set(this.execPrefix(id) + occKey, { v: SCHEDULER_RECORD_VERSION, execution } as unknown as JsonValue);
  }

  /** Every execution of a task, oldest first. */
  async history(id: string): Promise<TaskExecution[]> {
    const keys = await this.storage.list(this.execPrefix(id));
    const out: TaskExecution[] = [];
    for (const k of keys) {
      const raw = await this.storage.get(k);
      if (raw !== undefined) out.push(this.read(ExecutionRecord, k, raw).execution);
    }
    return out.sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
  }

  /** Deletes the oldest executions beyond `keep`. */
  async prune(id: string, keep: number): Promise<void> {
    const keys = await this.storage.list(this.execPrefix(id));
    if (keys.length <= keep) return;
    await this.storage.batch(keys.slice(0, keys.length - keep).map((key) => ({ op: "delete" as const, key })));
  }

  /** Takes the lease of an occurrence; false when another scheduler holds it. */
  async acquire(id: string, occKey: string, lease: Omit<Lease, "v">, ttlMs: number): Promise<boolean> {
    return this.storage.compareAndSet(this.leaseKey(id, occKey), undefined, { v: SCHEDULER_RECORD_VERSION, ...lease }, { ttlMs });
  }

  async lease(id: string, occKey: string): Promise<Lease | undefined> {
    const key = this.leaseKey(id, occKey);
    const raw = await this.storage.get(key);
    return raw === undefined ? undefined : this.read(LeaseRecord, key, raw);
  }

  async release(id: string, occKey: string): Promise<void> {
    await this.storage.delete(this.leaseKey(id, occKey));
  }
}
