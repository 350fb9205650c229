import { CarError } from "../errors.ts";
import { nextCronTime, parseCron, prevCronTime } from "./cron.ts";
import { parseInterval } from "./duration.ts";
import type { Task } from "./schemas.ts";

/** One scheduled occurrence of a task. Its id is deterministic, so a second request for it is recognised. */
export interface Occurrence {
  id: string;
  /** Sorts in time order; part of the storage key. */
  key: string;
  /** Scheduled time (ms); for `once` the task's creation time. */
  at: number;
}

const pad = (ms: number) => String(Math.max(0, ms)).padStart(15, "0");
const iso = (ms: number) => new Date(ms).toISOString();

/** Milliseconds between interval occurrences, or the cron schedule, checked. */
export function scheduleOf(task: Pick<Task, "trigger" | "schedule">, minIntervalMs: number) {
  if (task.trigger === "interval") {
    if (!task.schedule) throw new CarError("invalid_input", "scheduler", 'trigger "interval" needs a schedule such as "5m"');
    const ms = parseInterval(task.schedule);
    if (ms < minIntervalMs) throw new CarError("invalid_input", "scheduler", `interval "${task.schedule}" is shorter than the minimum of ${minIntervalMs} ms`);
    return { intervalMs: ms };
  }
  if (task.trigger === "cron") {
    if (!task.schedule) throw new CarError("invalid_input", "scheduler", 'trigger "cron" needs a 5-field schedule such as "*/5 * * * *"');
    return { cron: parseCron(task.schedule) };
  }
  return {};
}

/**
 * The occurrence due at `now`: `once` → the single one; `interval` → the latest of
 * created_at + k·interval (k ≥ 0) not after now; `cron` → the latest firing minute not after now.
 * Undefined for `manual` (never deduplicated) or when a cron schedule never fired.
 */
export function occurrenceAt(task: Task, now: number, minIntervalMs = 0): Occurrence | undefined {
  const created = Date.parse(task.created_at);
  const s = scheduleOf(task, minIntervalMs);
  let at: number | undefined;
  if (task.trigger === "once") return { id: `${task.id}:once`, key: "once", at: created };
  if (s.intervalMs !== undefined) at = created + Math.max(0, Math.floor((now - created) / s.intervalMs)) * s.intervalMs;
  else if (s.cron) at = prevCronTime(s.cron, now);
  if (at === undefined) return undefined;
  return { id: `${task.id}:${task.trigger}:${iso(at)}`, key: `t${pad(at)}`, at };
}

/** The first scheduled time strictly after `t`; undefined for `once` and `manual`. */
export function nextOccurrenceAfter(task: Task, t: number, minIntervalMs = 0): number | undefined {
  const created = Date.parse(task.created_at);
  const s = scheduleOf(task, minIntervalMs);
  if (s.intervalMs !== undefined) return t < created ? created : created + (Math.floor((t - created) / s.intervalMs) + 1) * s.intervalMs;
  if (s.cron) return nextCronTime(s.cron, t);
  return undefined;
}

/** The occurrence of one manual run (unique: manual runs are never deduplicated). */
export function manualOccurrence(task: Task, now: number, executionId: string): Occurrence {
  return { id: `${task.id}:manual:${executionId}`, key: `m${pad(now)}-${executionId}`, at: now };
}
