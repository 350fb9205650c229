import { CanceledError, messageOf } from "../errors.ts";
import { reasonOf, systemClock, type Clock } from "../engine/clock.ts";
import { EventLog } from "../engine/event-log.ts";
import { hexId, systemRandom, type Random } from "../engine/random.ts";
import { BudgetTracker } from "./budget.ts";
import { resolveAgentRunner, type AgentRunner, type PatternName } from "./runner.ts";
import { errorOutput, parseAgentOutput, type AgentOutput, type AgentSpec, type BudgetLimits, type BudgetUsage } from "./schemas.ts";

/** Default of `MultiOptions.maxConcurrency`. */
export const DEFAULT_MAX_CONCURRENCY = 16;

/** Settings of one pattern call. */
export interface MultiOptions {
  /** Runs each agent turn; defaults to the registered runner. */
  runner?: AgentRunner;
  /** Cancels the run: no new agent starts and every running agent's signal aborts. */
  signal?: AbortSignal;
  /** Where agent turns are recorded (a fresh log when omitted). */
  events?: EventLog;
  clock?: Clock;
  /** Draws run ids. */
  random?: Random;
  /** Most agents of one parallel step running at once (default 16). */
  maxConcurrency?: number;
}

/** Fields every pattern result carries. */
export interface RunInfo {
  run_id: string;
  usage: BudgetUsage;
}

/** The shared machinery of one pattern run: budget, events, cancellation, the runner. */
export class Coordinator {
  readonly runId: string;
  readonly pattern: PatternName;
  readonly events: EventLog;
  readonly budget: BudgetTracker;
  private readonly clock: Clock;
  private readonly runner: AgentRunner;
  private readonly maxConcurrency: number;
  private readonly ctl = new AbortController();
  private seq = 0;

  constructor(pattern: PatternName, limits: BudgetLimits | undefined, options: MultiOptions) {
    this.pattern = pattern;
    this.runner = resolveAgentRunner(options.runner);
    this.clock = options.clock ?? systemClock;
    this.events = options.events ?? new EventLog({ clock: this.clock });
    this.runId = `${pattern}-${hexId(options.random ?? systemRandom, 12)}`;
    this.budget = new BudgetTracker(limits);
    this.maxConcurrency = Math.max(1, options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY);
  }

  /** Aborts when the caller cancels or the run fails; handed to every agent. */
  get signal(): AbortSignal {
    return this.ctl.signal;
  }

  /** Stops every running agent. */
  abort(reason: unknown): void {
    if (!this.ctl.signal.aborted) this.ctl.abort(reason);
  }

  /** Throws a CanceledError once the run is aborted. */
  throwIfAborted(): void {
    if (this.ctl.signal.aborted) throw this.canceled();
  }

  /**
   * Runs one agent turn under the budget. A denied agent yields an output with `error`; a runner
   * that throws yields an output with the error's message; a malformed output is a ValidationError.
   */
  async runAgent(spec: AgentSpec, task: string, role: string): Promise<AgentOutput> {
    this.throwIfAborted();
    const action_id = `${this.runId}:${++this.seq}`;
    const tags = { run_id: this.runId, action_id };
    const denied = this.budget.admit();
    if (denied) {
      this.events.append({ ...tags, kind: "gate_rejected", data: { gate: "budget", pattern: this.pattern, agent: spec.name, role, reason: denied } });
      return errorOutput(spec.name, denied);
    }
    this.events.append({ ...tags, kind: "worker_started", data: { pattern: this.pattern, agent: spec.name, role } });
    const started = this.clock.now();
    let output: AgentOutput;
    let raw: unknown;
    try {
      raw = await this.raceAbort(Promise.resolve().then(() => this.runner(spec, task, { signal: this.signal, pattern: this.pattern, role, run_id: this.runId })));
    } catch (err) {
      if (this.signal.aborted) throw this.canceled();
      raw = errorOutput(spec.name, messageOf(err), this.clock.now() - started);
    }
    try {
      output = parseAgentOutput(raw, spec.name);
    } catch (err) {
      this.events.append({ ...tags, kind: "turn_completed", data: { pattern: this.pattern, agent: spec.name, role, error: messageOf(err), invalid_output: true } });
      throw err;
    }
    this.budget.record(output);
    this.events.append({
      ...tags,
      kind: "turn_completed",
      data: {
        pattern: this.pattern, agent: spec.name, role, output_name: output.name, answer: output.answer, turns: output.turns,
        tool_calls: output.tool_calls, duration_ms: output.duration_ms, error: output.error,
        ...(output.tokens !== undefined ? { tokens: output.tokens } : {}), ...(output.cost_usd !== undefined ? { cost_usd: output.cost_usd } : {}),
      },
    });
    return output;
  }

  /** `fn` over `items` with at most `maxConcurrency` running at once; results keep input order. */
  async mapLimited<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
    const out = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxConcurrency, items.length) }, worker));
    return out;
  }

  private raceAbort<T>(p: Promise<T>): Promise<T> {
    const signal = this.signal;
    return new Promise<T>((resolve, reject) => {
      // A runner that ignores its signal must not keep the pattern waiting.
      const onAbort = () => reject(this.canceled());
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  private canceled(): CanceledError {
    return new CanceledError("multi", reasonOf(this.signal));
  }
}

/**
 * Runs a pattern body with a Coordinator: records `run_started`/`run_completed`, links the
 * caller's signal, and on any failure aborts the agents still running before rethrowing.
 */
export async function runPattern<R extends object>(
  pattern: PatternName,
  limits: BudgetLimits | undefined,
  options: MultiOptions,
  body: (c: Coordinator) => Promise<R>,
): Promise<R & RunInfo> {
  const c = new Coordinator(pattern, limits, options);
  const outer = options.signal;
  const onAbort = () => c.abort(new CanceledError("multi", reasonOf(outer!)));
  if (outer?.aborted) onAbort();
  else outer?.addEventListener("abort", onAbort, { once: true });
  c.events.append({ run_id: c.runId, kind: "run_started", data: { pattern, ...(limits ? { budget: limits } : {}) } });
  try {
    const result = await body(c);
    c.throwIfAborted();
    const usage = c.budget.usage();
    c.events.append({ run_id: c.runId, kind: "run_completed", data: { pattern, status: "completed", usage } });
    return { ...result, run_id: c.runId, usage };
  } catch (err) {
    const canceled = err instanceof CanceledError;
    c.abort(err);
    c.events.append({ run_id: c.runId, kind: "run_completed", data: { pattern, status: canceled ? "canceled" : "failed", error: messageOf(err), usage: c.budget.usage() } });
    throw err;
  } finally {
    outer?.removeEventListener("abort", onAbort);
  }
}
