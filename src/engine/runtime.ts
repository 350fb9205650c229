import type { ActionProposal } from "../ir/proposal.ts";
import type { ProposalResult } from "../ir/results.ts";
import type { ToolSchema, ToolSchemaInput } from "../ir/tool-schema.ts";
import { CarError, ProposalRejectedError, messageOf } from "../errors.ts";
import { PolicyEngine, type PolicyScope, type PolicySummary } from "../policies/policy-engine.ts";
import { rejectAtAdmission } from "./admission.ts";
import { BudgetGuard, type CostBudget, type CostBudgetInput } from "./budget.ts";
import { CapabilityGuard, type CapabilitySet, type CapabilitySetInput } from "./capabilities.ts";
import { parseCheckpoint, type Checkpoint, type RestoreReport } from "./checkpoint.ts";
import { systemClock, type Clock } from "./clock.ts";
import { buildDag, type Dag } from "./dag.ts";
import { EventLog, type EventInit } from "./event-log.ts";
import { DurableJournal, journalValueProblem, type DurabilityOptions, type JournalCompaction } from "./durable-journal.ts";
import { recoverRuntime, type RecoveryReport } from "./durable-recover.ts";
import { runProposal, type ExecutionContext, type ResumeState, type RunOutcome } from "./execute.ts";
import type { ActionGuard, ProposalGuard, ToolMiddleware, Violation } from "./hooks.ts";
import { normalizeProposal } from "./normalize.ts";
import { hexId, systemRandom, type Random } from "./random.ts";
import { RateLimiter } from "./rate-limiter.ts";
import { parseReplanConfig, runWithReplan, type ReplanCallback, type ReplanConfig, type ReplanConfigInput, type Verifier } from "./replan.ts";
import { ResultCache, type ResultCacheOptions } from "./result-cache.ts";
import { RuntimeState } from "./runtime-state.ts";
import { StateStore, type StateSnapshot } from "./state-store.ts";
import type { AppendLog } from "../storage/storage.ts";
import { ToolRegistry, type ToolExecutor, type ToolHandler } from "./tools.ts";
import { verify } from "../verify/verify.ts";
import type { VerifyOptions, VerifyResult } from "../verify/types.ts";
import { planAndExecute, type PlanAndExecuteOptions, type PlanAndExecuteResult } from "../planner/plan-and-execute.ts";

export { RuntimeState } from "./runtime-state.ts";

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
  /** Result cache settings, or `false` to turn caching and dedup off (replay does). */
  resultCache?: ResultCacheOptions | false;
  /** Most policy scopes open at once (default 1,024). */
  maxPolicyScopes?: number;
  /**
   * Journals every event to this log (durable execution, docs/durability.md): each level's
   * outcomes are durable before the next level starts. Call `recover()` before using a runtime
   * whose journal may hold an earlier run.
   */
  journal?: AppendLog;
  /** Snapshot policy of the journal. */
  durability?: DurabilityOptions;
}

/** Options of one `executeProposal` call. */
export interface ExecuteOptions {
  /** Cancels the run: actions not started are skipped (`canceled: …`), running tools see the signal, state rolls back. */
  signal?: AbortSignal;
  /** Keys set in the state store before the run starts. */
  initialState?: StateSnapshot;
  /** A policy scope from `policies.openScope()`: its policies apply on top of the global ones. */
  policyScope?: string;
}

/** A proposal accepted for execution: normalized, with its DAG. */
export interface PreparedProposal {
  proposal: ActionProposal;
  dag: Dag;
}

/**
 * The Common Agent Runtime: verifies and executes action proposals against its tools and state,
 * under its policies, capabilities, budget and rate limits, recording every step in its event log.
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
  /** Registered and file policies, in layers (global + scopes). */
  readonly policies: PolicyEngine;
  /** Per-tool token buckets from `ToolSchema.rate_limit`. */
  readonly rateLimiter: RateLimiter;
  /** Cached outputs of idempotent calls (undefined when turned off). */
  readonly resultCache: ResultCache | undefined;
  protected readonly guards: ActionGuard[] = [];
  protected readonly admissionGuards: ProposalGuard[] = [];
  protected readonly middleware: ToolMiddleware[] = [];
  protected executor: ToolExecutor | undefined;
  private readonly capabilities = new CapabilityGuard();
  private readonly budget = new BudgetGuard();
  private replanCallback: ReplanCallback | undefined;
  private replanConfig: ReplanConfig = parseReplanConfig({});
  private verifier: Verifier;
  private halted: string | undefined;
  private readonly options: RuntimeOptions;
  private readonly durable: DurableJournal | undefined;

  constructor(options: RuntimeOptions = {}) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.executor = options.executor;
    this.events = new EventLog({ clock: this.clock, maxEvents: options.maxEvents ?? 100_000 });
    this.state = new RuntimeState(
      this.store,
      (changes, deleted, source) => this.events.append({ ...this.options.eventTags, kind: "state_changed", data: { changes, ...(deleted ? { deleted } : {}), source } }),
      // Refused up front: once in an event, such a value would break the journal for good.
      options.journal ? (values) => refuseUnjournallable(values, "state") : undefined,
    );
    this.policies = new PolicyEngine({ clock: this.clock, random: this.random, ...(options.maxPolicyScopes !== undefined ? { maxScopes: options.maxPolicyScopes } : {}) });
    this.rateLimiter = new RateLimiter(this.clock, this.tools);
    this.resultCache = options.resultCache === false ? undefined : new ResultCache(this.clock, this.tools, options.resultCache ?? {});
    // Replans are checked with the full static verifier (tools, schemas, policies, capabilities).
    this.verifier = (p, { state, tools }) => {
      try {
        return verify(p, { ...this.verifyDefaults(), initialState: state, tools });
      } catch (err) {
        return { valid: false, issues: [{ severity: "error", message: messageOf(err) }] };
      }
    };
    if (options.journal) this.durable = new DurableJournal(options.journal, this.events, this.clock, options.durability);
    // Validation order: capabilities, policies, budget (all are asked; all violations collected).
    this.guards.push(this.capabilities, this.policies, this.budget);
    this.admissionGuards.push(this.capabilities, this.budget);
    // The cache answers before the rate limiter is asked, so hits cost no token.
    if (this.resultCache) this.middleware.push(this.resultCache.middleware());
    this.middleware.push(this.rateLimiter.middleware());
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

  /** Registers a policy (`{name, rule: deny_tool|deny_tool_param|require_state, …}`), globally or in its `session_id` scope. */
  registerPolicy(def: unknown): { registered: string; scope: PolicyScope } {
    return this.policies.register(def);
  }

  /** Removes every policy named `name` (in `scope`, else globally); returns how many. */
  unregisterPolicy(name: string, scope?: string): number {
    return this.policies.unregister(name, scope).removed;
  }

  /** Policies of the global layer (or of `scope`) in registration order. */
  listPolicies(scope?: string): PolicySummary[] {
    return this.policies.list(scope).policies;
  }

  /** Sets (or clears) the capability set every action is validated against. */
  setCapabilities(caps: CapabilitySetInput | undefined): CapabilitySet | undefined {
    return this.capabilities.set(caps);
  }

  /** The capability set in force, if any. */
  capabilitySet(): CapabilitySet | undefined {
    return this.capabilities.get();
  }

  /** Sets (or clears) the cost budget of each proposal run. */
  setBudget(budget: CostBudgetInput | undefined): CostBudget | undefined {
    return this.budget.set(budget);
  }

  /** Sets (or clears) the callback asked for a new proposal after an abort. */
  setReplanCallback(callback: ReplanCallback | undefined): void {
    this.replanCallback = callback;
  }

  /** Updates replan settings; fields left out keep their current value. */
  setReplanConfig(config: ReplanConfigInput): ReplanConfig {
    this.replanConfig = parseReplanConfig({ ...this.replanConfig, ...config });
    return this.replanConfig;
  }

  /** The verifier used by `verify_before_execute` (default: parses, valid DAG, registered tools). */
  setVerifier(verifier: Verifier): void {
    this.verifier = verifier;
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

  /** Wraps tool invocation; the first added is the outermost (built-ins come first). */
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
    const caps = this.capabilities.get();
    return {
      // Dry run: verifying a proposal must not consume policy rate windows.
      policyCheck: (action, { state }) => this.policies.evaluate(action, action.parameters, state, undefined, { dryRun: true }).map((v) => ({ name: v.name, reason: v.reason })),
      ...(caps ? { capabilities: caps } : {}),
    };
  }

  /**
   * Executes a proposal and returns its result. Invalid proposals throw before any action runs.
   * With replanning configured, an aborted run is rolled back and replaced by the callback's
   * proposal; the last run's result is returned.
   */
  async executeProposal(input: unknown, options: ExecuteOptions = {}): Promise<ProposalResult> {
    const callback = this.replanCallback;
    if (!callback || this.replanConfig.max_replans === 0) return (await this.run(input, options)).result;
    if (options.initialState) this.state.merge(options.initialState);
    const { initialState: _i, ...runOptions } = options;
    const outcome = await runWithReplan(
      {
        config: this.replanConfig,
        callback,
        verifier: this.verifier,
        clock: this.clock,
        run: (p) => this.run(p, runOptions),
        parse: (p) => normalizeProposal(p, this.clock, this.random),
        emit: (e) => void this.events.append({ ...this.tags(options.policyScope), ...e }),
        snapshot: () => this.store.snapshot(),
        restore: (snap) => this.state.replace(snap, "replan_rollback"),
        tools: () => this.tools.schemas(),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      input,
    );
    return outcome.result;
  }

  /** Executes one proposal (no replanning), returning the full outcome. */
  protected async run(input: unknown, options: ExecuteOptions = {}): Promise<RunOutcome> {
    if (this.halted !== undefined) throw new ProposalRejectedError("halted", `runtime halted by a terminal tool error (${this.halted}); call clearHalt()`);
    if (this.durable === undefined) return this.runOnce(input, options);
    this.durable.check();
    this.durable.enterRun();
    let outcome: RunOutcome;
    try {
      outcome = await this.runOnce(input, options);
    } catch (err) {
      // An invalid proposal is journalled too; its own error is the one the caller hears of.
      await this.durable.flush().catch(() => {});
      throw err;
    } finally {
      this.durable.exitRun();
    }
    await this.durable.flush();
    return outcome;
  }

  private async runOnce(input: unknown, options: ExecuteOptions): Promise<RunOutcome> {
    const scope = options.policyScope;
    if (scope !== undefined && !this.policies.hasScope(scope)) throw new CarError("not_found", "policies", `no open policy scope "${scope}"`);
    const tags = this.tags(scope);
    const proposal = normalizeProposal(input, this.clock, this.random);
    if (this.durable) refuseUnjournallable(proposal, "proposal");
    const received = () => this.events.append({ ...tags, kind: "proposal_received", proposal_id: proposal.id, data: { source: proposal.source, action_count: proposal.actions.length, proposal } });
    let dag: Dag;
    try {
      dag = buildDag(proposal.actions);
    } catch (err) {
      received();
      this.events.append({ ...tags, kind: "proposal_completed", proposal_id: proposal.id, data: { status: "invalid", error: messageOf(err) } });
      throw err;
    }
    // Initial state is logged before the proposal so that replay folds it in before re-running.
    if (options.initialState) this.state.merge(options.initialState);
    received();

    const denied: Violation[] = [];
    const admission = { state: this.store, ...(scope !== undefined ? { policyScope: scope } : {}) };
    try {
      for (const g of this.admissionGuards) {
        const found = g.admit(proposal, admission);
        for (const v of Array.isArray(found) ? found : await found) denied.push(v);
      }
    } catch (err) {
      // The proposal is already received (and journalled): it must complete, or recovery would run it again.
      denied.push({ source: "admission", name: "admission_guard_error", reason: `an admission guard failed: ${messageOf(err)}` });
    }
    let outcome: RunOutcome;
    if (denied.length > 0) outcome = rejectAtAdmission({ events: this.events, clock: this.clock, ...(tags ? { tags } : {}) }, proposal, denied);
    else {
      const ctx = this.context();
      ctx.eventTags = tags;
      if (scope !== undefined) ctx.policyScope = scope;
      outcome = await runProposal(ctx, proposal, dag, options.signal);
    }
    if (outcome.terminal) this.halted = outcome.abortedBy ?? "unknown action";
    // Without hash chaining every event is final already: no turn spent waiting.
    if (this.events.chainEnabled) await this.events.settled();
    return outcome;
  }

  /**
   * Reads the journal after a restart: restores the state and recent events, then runs every
   * proposal that was received but not completed to its end. Recorded outcomes are adopted (those
   * actions never run again); the remaining actions run with the tools registered now.
   */
  recover(): Promise<RecoveryReport> {
    const durable = this.durable;
    if (!durable) return Promise.reject(new CarError("unsupported", "engine:durable", "this runtime has no journal (RuntimeOptions.journal)"));
    const emit = (e: EventInit) => void this.events.append({ ...this.options.eventTags, ...e });
    return recoverRuntime({ durable, store: this.store, events: this.events, emit, prepare: (p) => this.prepare(p), resume: (p, r) => this.resume(p, r) });
  }

  /** Resolves once every event so far is durable in the journal (direct state writes, say); rejects if a write failed. */
  async flushJournal(): Promise<void> {
    await this.durable?.flush();
  }

  /**
   * Writes a snapshot and drops every journal record before it (docs/durability.md, "Compaction").
   * Only between proposals (`conflict` while one is unfinished); `unsupported` without a journal
   * or with `durability.snapshots: false`.
   */
  compactJournal(): Promise<JournalCompaction> {
    if (!this.durable) return Promise.reject(new CarError("unsupported", "engine:durable", "this runtime has no journal (RuntimeOptions.journal)"));
    return this.durable.compact();
  }

  /**
   * Refuses new proposals, lets running ones finish, flushes, and stops journalling: afterwards
   * proposals and flushes fail with `storage_error`. The AppendLog stays open for its owner to
   * close. Without a journal this does nothing.
   */
  async closeJournal(): Promise<void> {
    await this.durable?.close();
  }

  /** Runs an interrupted proposal to its end (see `recover`). */
  private async resume(prepared: PreparedProposal, resume: ResumeState): Promise<RunOutcome> {
    this.durable!.enterRun();
    try {
      const outcome = await runProposal({ ...this.context(), eventTags: this.tags(undefined) }, prepared.proposal, prepared.dag, undefined, resume);
      if (outcome.terminal) this.halted = outcome.abortedBy ?? "unknown action";
      await this.events.settled();
      await this.durable!.flush();
      return outcome;
    } finally {
      this.durable!.exitRun();
    }
  }

  /** Saves the state, tool names, event log (for audit) and `metadata` (reference §4.9). */
  saveCheckpoint(metadata: Record<string, unknown> = {}): Checkpoint {
    return {
      checkpoint_id: hexId(this.random, 16),
      created_at: new Date(this.clock.now()).toISOString(),
      state: this.store.snapshot(),
      events: this.events.all(),
      tools: this.tools.names(),
      metadata: structuredClone(metadata),
    };
  }

  /**
   * Replaces the state with the checkpoint's (logged as one `state_changed`, so replay follows).
   * The checkpoint's events are not replayed; tools cannot be restored, only reported missing.
   */
  restoreCheckpoint(input: unknown): RestoreReport {
    const cp = parseCheckpoint(input);
    this.state.replace(cp.state, "checkpoint");
    return { checkpoint_id: cp.checkpoint_id, keys: Object.keys(cp.state).length, missing_tools: cp.tools.filter((t) => !this.tools.has(t)) };
  }

  private unscopedTags: ExecutionContext["eventTags"] | undefined;
  /** Event tags of a run in `scope` (runs without a scope share one object). */
  private tags(scope: string | undefined): ExecutionContext["eventTags"] {
    if (scope === undefined) return (this.unscopedTags ??= { ...this.options.eventTags } as Pick<EventInit, "run_id" | "client_id" | "policy_session_id">);
    return { ...this.options.eventTags, policy_session_id: scope } as Pick<EventInit, "run_id" | "client_id" | "policy_session_id">;
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
      ...(this.durable ? { barrier: () => this.durable!.flush(), outputProblem: journalValueProblem } : {}),
      retryBaseDelayMs: this.options.retryBaseDelayMs ?? 100,
      ...(this.options.eventTags ? { eventTags: this.options.eventTags } : {}),
    };
  }
}

/** True when `err` is a CarError with the given code. */
export function isCarError(err: unknown, code?: CarError["code"]): err is CarError {
  return err instanceof CarError && (code === undefined || err.code === code);
}

/** A durable runtime's refusal of a value its journal (JSON only) could not record. */
function refuseUnjournallable(value: unknown, what: string): void {
  const problem = journalValueProblem(value);
  if (problem !== undefined) throw new CarError("invalid_input", "engine:durable", `${what}${problem}: durable runtimes record JSON values only`);
}
