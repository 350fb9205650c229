import type { ActionProposal } from "../ir/proposal.ts";
import type { ProposalResult } from "../ir/results.ts";
import type { ToolSchema, ToolSchemaInput } from "../ir/tool-schema.ts";
import { CarError, ProposalRejectedError, messageOf } from "../errors.ts";
import { systemClock, type Clock } from "./clock.ts";
import { buildDag, type Dag } from "./dag.ts";
import { EventLog } from "./event-log.ts";
import { runProposal, type ExecutionContext, type RunOutcome } from "./execute.ts";
import type { ActionGuard, ProposalGuard, ToolMiddleware } from "./hooks.ts";
import { normalizeProposal } from "./normalize.ts";
import { systemRandom, type Random } from "./random.ts";
import { StateStore, type StateSnapshot } from "./state-store.ts";
import { ToolRegistry, type ToolExecutor, type ToolHandler } from "./tools.ts";
import { verify } from "../verify/verify.ts";
import type { VerifyOptions, VerifyResult } from "../verify/types.ts";
import { planAndExecute, type PlanAndExecuteOptions, type PlanAndExecuteResult } from "../planner/plan-and-execute.ts";

/** Settings of a Runtime. Every limit has a default documented here. */
export interface RuntimeOptions {
  clock?: Clock;
  random?: Random;
  /** Runs tools registered without a handler (the daemon's client callback). */
  executor?: ToolExecutor;
  /** Most actions of one DAG level running at once (default 64). */
  maxConcurrentActions?: number;
  /** Retry backoff base: the n-th retry waits base × 2ⁿ⁻¹ ms (default 100). */
  retryBaseDelayMs?: number;
  /** Oldest events are dropped past this many (default 100,000). */
  maxEvents?: number;
  /** Stamped on every event this runtime records. */
  eventTags?: ExecutionContext["eventTags"];
}

/** Options of one `executeProposal` call. */
export interface ExecuteOptions {
  /** Cancels the run: actions not started are skipped (`canceled: …`), running tools see the signal, state rolls back. */
  signal?: AbortSignal;
  /** Keys set in the state store before the run starts. */
  initialState?: StateSnapshot;
}

/** A proposal accepted for execution: normalized, with its DAG. */
export interface PreparedProposal {
  proposal: ActionProposal;
  dag: Dag;
}

/**
 * The Common Agent Runtime: verifies and executes action proposals against its tools and state,
 * recording every step in its event log.
 */
export class Runtime {
  /** The raw store; writes through it bypass the event log (the executor's own writes are logged per action). */
  protected readonly store = new StateStore();
  /** The runtime's state. Direct writes are recorded as `state_changed` events so replay sees them. */
  readonly state: RuntimeState;
  readonly events: EventLog;
  readonly tools = new ToolRegistry();
  readonly clock: Clock;
  readonly random: Random;
  protected readonly guards: ActionGuard[] = [];
  protected readonly admissionGuards: ProposalGuard[] = [];
  protected readonly middleware: ToolMiddleware[] = [];
  protected executor: ToolExecutor | undefined;
  private halted: string | undefined;
  private readonly options: RuntimeOptions;

  constructor(options: RuntimeOptions = {}) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.executor = options.executor;
    this.events = new EventLog({ clock: this.clock, maxEvents: options.maxEvents ?? 100_000 });
    this.state = new RuntimeState(this.store, (changes, deleted) =>
      this.events.append({ ...this.options.eventTags, kind: "state_changed", data: { changes, ...(deleted ? { deleted } : {}), source: "direct" } }),
    );
  }

  /** Registers (or replaces) a tool. Without a handler, calls go to the runtime's ToolExecutor. */
  registerTool(schema: ToolSchemaInput, handler?: ToolHandler): ToolSchema {
    return this.tools.register(schema, handler);
  }

  /** Removes a tool; returns whether it existed. */
  unregisterTool(name: string): boolean {
    return this.tools.unregister(name);
  }

  /** Registered tool schemas, sorted by name. */
  toolSchemas(): ToolSchema[] {
    return this.tools.schemas();
  }

  /** Sets the executor for tools without an in-process handler. */
  setToolExecutor(executor: ToolExecutor | undefined): void {
    this.executor = executor;
  }

  /** Adds a check run on every action before it executes. */
  addGuard(guard: ActionGuard): () => void {
    this.guards.push(guard);
    return () => void this.guards.splice(this.guards.indexOf(guard) >>> 0, 1);
  }

  /** Adds a check run on every proposal before anything executes. */
  addAdmissionGuard(guard: ProposalGuard): () => void {
    this.admissionGuards.push(guard);
    return () => void this.admissionGuards.splice(this.admissionGuards.indexOf(guard) >>> 0, 1);
  }

  /** Wraps tool invocation; the first added is the outermost. */
  addToolMiddleware(mw: ToolMiddleware): () => void {
    this.middleware.push(mw);
    return () => void this.middleware.splice(this.middleware.indexOf(mw) >>> 0, 1);
  }

  /** Whether a TerminalToolError halted this runtime, and why. */
  get haltReason(): string | undefined {
    return this.halted;
  }

  /** Accepts proposals again after a TerminalToolError. */
  clearHalt(): void {
    this.halted = undefined;
  }

  /** Parses and normalizes a proposal and builds its DAG; throws on invalid input, cycles, unknown deps, duplicate ids. */
  prepare(input: unknown): PreparedProposal {
    const proposal = normalizeProposal(input, this.clock, this.random);
    return { proposal, dag: buildDag(proposal.actions) };
  }

  /** Statically verifies a proposal against this runtime's tool schemas and current state (nothing runs). */
  verifyProposal(proposal: unknown, options: VerifyOptions = {}): VerifyResult {
    return verify(proposal, { initialState: this.store.snapshot(), tools: this.tools.schemas(), ...this.verifyDefaults(), ...options });
  }

  /** Ranks candidate proposals, executes the best valid one and falls back to the next on failure. */
  planAndExecute(candidates: readonly unknown[], options: PlanAndExecuteOptions = {}): Promise<PlanAndExecuteResult> {
    return planAndExecute(this, candidates, options);
  }

  /** Verify settings this runtime adds (policy check, capabilities…); subclasses and the policy layer override it. */
  protected verifyDefaults(): VerifyOptions {
    return {};
  }

  /** Executes a proposal and returns its result. Invalid proposals throw before any action runs. */
  async executeProposal(input: unknown, options: ExecuteOptions = {}): Promise<ProposalResult> {
    return (await this.run(input, options)).result;
  }

  /** Executes a proposal, returning the full outcome (used by replan and the daemon). */
  protected async run(input: unknown, options: ExecuteOptions = {}): Promise<RunOutcome> {
    if (this.halted !== undefined) throw new ProposalRejectedError("halted", `runtime halted by a terminal tool error (${this.halted}); call clearHalt()`);
    const proposal = normalizeProposal(input, this.clock, this.random);
    const received = this.events.append({ ...this.options.eventTags, kind: "proposal_received", proposal_id: proposal.id, data: { source: proposal.source, action_count: proposal.actions.length, proposal } });
    void received;
    let dag: Dag;
    try {
      dag = buildDag(proposal.actions);
    } catch (err) {
      this.events.append({ ...this.options.eventTags, kind: "proposal_completed", proposal_id: proposal.id, data: { status: "invalid", error: messageOf(err) } });
      throw err;
    }
    if (options.initialState) this.state.merge(options.initialState);

    const denied = [];
    for (const g of this.admissionGuards) denied.push(...(await g.admit(proposal, { state: this.store })));
    let outcome: RunOutcome;
    if (denied.length > 0) outcome = this.rejectAll(proposal, denied.map((v) => `${v.name}: ${v.reason}`).join("; "));
    else outcome = await runProposal(this.context(), proposal, dag, options.signal);
    if (outcome.terminal) this.halted = outcome.abortedBy ?? "unknown action";
    await this.events.settled();
    return outcome;
  }

  /** Rejects every action of a proposal refused at admission (nothing runs). */
  private rejectAll(proposal: ActionProposal, reason: string): RunOutcome {
    const now = this.clock.now();
    const tags = this.options.eventTags ?? {};
    const error = `rejected: ${reason}`;
    const results = proposal.actions.map((a) => {
      this.events.append({ ...tags, kind: "action_rejected", proposal_id: proposal.id, action_id: a.id, data: { reason: error } });
      return { action_id: a.id, status: "rejected" as const, output: null, error, state_changes: {}, duration_ms: 0, timestamp: new Date(now).toISOString() };
    });
    const cost = { tool_calls: 0, actions_executed: 0, actions_rejected: results.length, actions_skipped: 0, total_duration_ms: 0, retries: 0 };
    this.events.append({ ...tags, kind: "proposal_completed", proposal_id: proposal.id, data: { status: "rejected", cost } });
    return { result: { proposal_id: proposal.id, results, cost }, abortedBy: undefined, canceled: false, terminal: false, rejections: proposal.actions.map((a) => ({ action_id: a.id, violations: [{ source: "admission", name: "admission", reason }] })) };
  }

  /** The execution context handed to each run. */
  protected context(): ExecutionContext {
    return {
      state: this.store,
      events: this.events,
      tools: this.tools,
      executor: this.executor,
      clock: this.clock,
      guards: [...this.guards],
      middleware: [...this.middleware],
      maxConcurrentActions: this.options.maxConcurrentActions ?? 64,
      retryBaseDelayMs: this.options.retryBaseDelayMs ?? 100,
      ...(this.options.eventTags ? { eventTags: this.options.eventTags } : {}),
    };
  }
}

/** True when `err` is a CarError with the given code. */
export function isCarError(err: unknown, code?: CarError["code"]): err is CarError {
  return err instanceof CarError && (code === undefined || err.code === code);
}

/** The public face of a runtime's state store: every write is logged. */
export class RuntimeState {
  constructor(
    private readonly store: StateStore,
    private readonly onChange: (changes: Record<string, unknown>, deleted?: string[]) => void,
  ) {}

  /** The value at `key`, or `null` when absent. */
  get(key: string): unknown {
    return this.store.get(key);
  }

  set(key: string, value: unknown): void {
    this.store.set(key, value);
    this.onChange({ [key]: value === undefined ? null : value });
  }

  /** Sets several keys at once (one event). */
  merge(values: StateSnapshot): void {
    if (Object.keys(values).length === 0) return;
    for (const [k, v] of Object.entries(values)) this.store.set(k, v);
    this.onChange({ ...values });
  }

  exists(key: string): boolean {
    return this.store.exists(key);
  }

  /** Removes a key; returns whether it existed. Logged with `deleted: [key]`. */
  delete(key: string): boolean {
    const existed = this.store.delete(key);
    if (existed) this.onChange({}, [key]);
    return existed;
  }

  keys(): string[] {
    return this.store.keys();
  }

  snapshot(): StateSnapshot {
    return this.store.snapshot();
  }
}
