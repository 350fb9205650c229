import type { Action } from "../ir/action.ts";
import type { ActionProposal } from "../ir/proposal.ts";
import type { ActionResult, ActionStatus, CostSummary, ProposalResult } from "../ir/results.ts";
import { CanceledError, CarError, TerminalToolError, TimeoutError, messageOf } from "../errors.ts";
import { reasonOf, reasonText, sleep, type Clock } from "./clock.ts";
import type { Dag } from "./dag.ts";
import { paramsDigest } from "./digest.ts";
import type { EventInit, EventLog } from "./event-log.ts";
import type { ActionGuard, GuardContext, MiddlewareContext, ToolMiddleware, Violation } from "./hooks.ts";
import { checkPrecondition, describePrecondition } from "./preconditions.ts";
import { UnresolvedReference, referencedIds, resolveReferences } from "./references.ts";
import type { StateSnapshot, StateStore } from "./state-store.ts";
import type { ToolCall, ToolExecutor, ToolRegistry } from "./tools.ts";

/** Everything one proposal run needs from its runtime. */
export interface ExecutionContext {
  state: StateStore;
  events: EventLog;
  tools: ToolRegistry;
  executor: ToolExecutor | undefined;
  clock: Clock;
  guards: readonly ActionGuard[];
  middleware: readonly ToolMiddleware[];
  /** Most actions of one level running at once. */
  maxConcurrentActions: number;
  /** Base of the retry backoff: the n-th retry waits base × 2ⁿ⁻¹ ms. */
  retryBaseDelayMs: number;
  /** Stamped on every event (e.g. the daemon session's policy scope). */
  eventTags?: Pick<EventInit, "run_id" | "client_id" | "policy_session_id">;
  /** The policy scope the proposal was submitted with; guards see it. */
  policyScope?: string;
  /**
   * Awaited before each DAG level starts (the durable journal's flush, so that every outcome of a
   * level is durable before the next one runs). If it throws, the run stops, rolls back and rethrows.
   */
  barrier?: () => Promise<void>;
  /**
   * What makes a tool's output unrecordable (a durable journal takes JSON only), or undefined.
   * Such an output fails its action instead of breaking the journal for every later run.
   */
  outputProblem?: (output: unknown) => string | undefined;
}

/** What a resumed run takes over from its interrupted first run (see durable-recover.ts). */
export interface ResumeState {
  /** The state before the proposal first started: what an abort rolls back to. */
  before: StateSnapshot;
  /** Actions whose outcome was recorded: adopted as they are, never run again. */
  done: ReadonlyMap<string, ActionResult>;
  /** Recorded tool calls and retries of each adopted action, for the cost summary. */
  counts: ReadonlyMap<string, { tool_calls: number; retries: number }>;
}

/** Outcome details the runtime needs beyond the wire result. */
export interface RunOutcome {
  result: ProposalResult;
  /** Id of the action that aborted the proposal, if one did. */
  abortedBy: string | undefined;
  canceled: boolean;
  /** A tool raised TerminalToolError. */
  terminal: boolean;
  /** Actions rejected by a guard, with their violations (for replan). */
  rejections: Array<{ action_id: string; violations: Violation[] }>;
}

type ErrorClass = "timeout" | "rejected_by_policy" | "tool_error" | "validation" | "canceled" | "unknown";

class ActionFailure extends Error {
  constructor(
    message: string,
    readonly errorClass: ErrorClass,
    readonly terminal = false,
  ) {
    super(message);
  }
}

/**
 * Executes a validated proposal level by level. Assumes the DAG was already built (and so is acyclic).
 * With `resume`, recorded outcomes are adopted without running anything or emitting events again.
 */
export async function runProposal(ctx: ExecutionContext, proposal: ActionProposal, dag: Dag, signal?: AbortSignal, resume?: ResumeState): Promise<RunOutcome> {
  const { state, events, clock } = ctx;
  const tags = ctx.eventTags ?? {};
  const emit = (e: EventInit) => events.appendTagged(e, tags, proposal.id);
  const started = clock.now();
  const byId = new Map<string, Action>();
  for (const a of proposal.actions) byId.set(a.id, a);
  const hasRefs = dag.withRefs ?? new Set(proposal.actions.filter((a) => referencedIds(a.parameters).size > 0).map((a) => a.id));
  const results = new Map<string, ActionResult>();
  const outputs = new Map<string, unknown>();
  const cost: CostSummary = { tool_calls: 0, actions_executed: 0, actions_rejected: 0, actions_skipped: 0, total_duration_ms: 0, retries: 0 };
  const rejections: RunOutcome["rejections"] = [];
  const snapshot = resume ? resume.before : state.snapshot();

  // The proposal's abort: on the caller's cancel and when an action aborts. A plain flag and a fan-out
  // to the attempts in flight (an AbortSignal per proposal costs more than the rest of a small run);
  // a real signal is made only for a retry's backoff sleep.
  const inflight = new Set<(reason: unknown) => void>();
  let aborted = false;
  let abortReason: unknown;
  const abortRun = (reason: unknown) => {
    if (aborted) return;
    aborted = true;
    abortReason = reason;
    for (const f of [...inflight]) f(reason);
  };
  const abortText = () => reasonText(abortReason);
  let abortSignal: AbortController | undefined;
  const proposalSignal = (): AbortSignal => {
    if (!abortSignal) {
      const ctl = (abortSignal = new AbortController());
      if (aborted) ctl.abort(abortReason);
      else inflight.add((r) => ctl.abort(r));
    }
    return abortSignal.signal;
  };
  const onCallerAbort = () => abortRun(new CanceledError("engine", reasonOf(signal!)));
  if (signal?.aborted) onCallerAbort();
  else signal?.addEventListener("abort", onCallerAbort, { once: true });

  let abortedBy: string | undefined;
  let terminal = false;

  const finish = (a: Action, status: ActionStatus, fields: Partial<ActionResult>, t0: number): ActionResult => {
    const r: ActionResult = {
      action_id: a.id,
      status,
      output: fields.output ?? null,
      error: fields.error ?? null,
      state_changes: fields.state_changes ?? {},
      duration_ms: Math.max(0, clock.now() - t0),
      timestamp: new Date(clock.now()).toISOString(),
      ...(fields.terminal ? { terminal: true as const } : {}),
    };
    results.set(a.id, r);
    if (status === "succeeded" || status === "failed") cost.actions_executed++;
    else if (status === "skipped") cost.actions_skipped++;
    else if (status === "rejected") cost.actions_rejected++;
    return r;
  };

  const skip = (a: Action, reason: string) => {
    finish(a, "skipped", { error: reason }, clock.now());
    emit({ kind: "action_skipped", action_id: a.id, data: { reason } });
  };

  const abortProposal = (a: Action, why: string) => {
    if (abortedBy === undefined && !aborted) {
      abortedBy = a.id;
      abortRun(new CanceledError("engine", `proposal aborted: action ${a.id} ${why}`));
    }
  };

  const guardContext = (): GuardContext => {
    const g: GuardContext = { proposal, state, toolCalls: cost.tool_calls, actionsExecuted: cost.actions_executed, elapsedMs: clock.now() - started };
    if (ctx.policyScope !== undefined) g.policyScope = ctx.policyScope;
    return g;
  };
  const mwContext = (a: Action): MiddlewareContext => ({ emit: (e: EventInit) => void emit({ action_id: a.id, ...e }) });

  // Not async (one promise hop less per call); a synchronous throw becomes a rejection.
  const dispatch = (c: ToolCall): Promise<unknown> => {
    cost.tool_calls++;
    try {
      const handler = ctx.tools.handler(c.tool);
      if (handler) return Promise.resolve(handler(c.parameters, c));
      if (!ctx.tools.has(c.tool)) throw new ActionFailure(`unknown tool: ${c.tool}`, "validation");
      if (!ctx.executor) throw new ActionFailure(`no handler or executor for tool: ${c.tool}`, "tool_error");
      return ctx.executor.execute(c);
    } catch (err) {
      return Promise.reject(err);
    }
  };
  // The middleware chain is built once per proposal, not per call; each attempt makes one
  // middleware context, shared by every middleware of the chain.
  const invokeTool = ctx.middleware.reduceRight<(c: ToolCall, a: Action, m: MiddlewareContext) => Promise<unknown>>(
    (next, mw) => (c, a, m) => mw(c, a, (c2) => next(c2, a, m), m),
    (c) => dispatch(c),
  );

  /**
   * One attempt. Its signal fires on timeout, cancel and proposal abort, and the engine never
   * waits on a tool past it. The AbortController is created only if the tool reads `signal`.
   */
  const attemptTool = (a: Action, parameters: Record<string, unknown>, attempt: number): Promise<unknown> =>
    new Promise<unknown>((resolve, reject) => {
      if (aborted) return reject(toFailure(abortReason));
      let ctl: AbortController | undefined;
      let hooks: Array<(reason: unknown) => void> | undefined;
      let attemptReason: unknown;
      let done = false;
      let cancelTimer = () => {};
      const settle = (fn: () => void) => {
        if (done) return;
        done = true;
        inflight.delete(onAbort);
        cancelTimer();
        fn();
      };
      const onAbort = (reason: unknown) => {
        attemptReason = reason;
        ctl?.abort(reason);
        if (hooks) for (const h of hooks.splice(0)) h(reason);
        settle(() => reject(toFailure(reason)));
      };
      inflight.add(onAbort);
      if (a.timeout_ms !== undefined) cancelTimer = clock.setTimer(a.timeout_ms, () => onAbort(new TimeoutError("engine", `action ${a.id}`, a.timeout_ms!)));
      const call: ToolCall = {
        tool: a.tool!,
        parameters,
        action_id: a.id,
        proposal_id: proposal.id,
        attempt,
        ...(a.timeout_ms !== undefined ? { timeout_ms: a.timeout_ms } : {}),
        get signal(): AbortSignal {
          if (!ctl) {
            ctl = new AbortController();
            if (attemptReason !== undefined) ctl.abort(attemptReason);
          }
          return ctl.signal;
        },
        onAbort(fn) {
          if (attemptReason !== undefined) {
            fn(attemptReason);
            return () => {};
          }
          (hooks ??= []).push(fn);
          return () => {
            const i = hooks!.indexOf(fn);
            if (i >= 0) hooks!.splice(i, 1);
          };
        },
      };
      invokeTool(call, a, mwContext(a)).then(
        (v) => settle(() => resolve(v)),
        (e) => settle(() => reject(toFailure(e))),
      );
    });

  const applyEffects = (a: Action, changes: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(changes)) state.set(k, v);
    if (Object.keys(changes).length > 0) emit({ kind: "state_changed", action_id: a.id, data: { changes } });
  };

  /** Takes over an outcome recorded before a crash: its effects are already in the state. */
  const adopt = (a: Action, recorded: ActionResult): void => {
    const r: ActionResult = { ...recorded };
    results.set(a.id, r);
    if (r.status === "succeeded" || r.status === "failed") cost.actions_executed++;
    else if (r.status === "skipped") cost.actions_skipped++;
    else if (r.status === "rejected") cost.actions_rejected++;
    if (r.status === "succeeded") outputs.set(a.id, r.output);
    const counts = resume!.counts.get(a.id);
    cost.tool_calls += counts?.tool_calls ?? 0;
    cost.retries += counts?.retries ?? 0;
    if (r.terminal) terminal = true;
    if ((r.status === "failed" || r.status === "rejected") && (r.terminal || a.failure_behavior !== "skip")) abortProposal(a, r.status === "rejected" ? "was rejected" : "failed");
  };

  const runAction = async (a: Action): Promise<void> => {
    if (resume !== undefined) {
      const recorded = resume.done.get(a.id);
      if (recorded) return adopt(a, recorded);
    }
    const t0 = clock.now();
    if (aborted) {
      return skip(a, abortedBy !== undefined ? `skipped: proposal aborted by action ${abortedBy}` : `canceled: ${abortText()}`);
    }
    const deps = dag.deps.get(a.id);
    if (deps) {
      for (const d of deps) {
        const r = results.get(d);
        if (!r || r.status !== "succeeded") return skip(a, `skipped: dependency ${d} ${r ? r.status : "did not run"}`);
      }
    }

    let parameters: Record<string, unknown> = a.parameters;
    try {
      if (hasRefs.has(a.id)) parameters = resolveReferences(a.parameters, (id) => {
        if (!outputs.has(id)) throw new UnresolvedReference(`unresolved reference $${id}.output: action ${id} has no output`);
        return outputs.get(id);
      }) as Record<string, unknown>;
    } catch (err) {
      return fail(a, new ActionFailure(messageOf(err), "validation"), t0, 1);
    }

    const violations: Violation[] = [];
    if (ctx.guards.length > 0) {
      let gctx = guardContext();
      try {
        for (const g of ctx.guards) {
          const found = g.check(a, parameters, gctx);
          // Guards are mostly synchronous: awaiting only promises saves a turn per guard per action.
          let list: Violation[];
          if (Array.isArray(found)) list = found;
          else {
            list = await found;
            gctx = guardContext(); // other actions moved on meanwhile
          }
          for (const v of list) violations.push(v);
        }
      } catch (err) {
        // A guard that throws could not vouch for the action: it fails (and the run rolls back) instead of the run rejecting half-applied.
        return fail(a, new ActionFailure(`guard failed: ${messageOf(err)}`, "validation"), t0, 1);
      }
    }
    const rejecting = violations.length === 0 ? violations : violations.filter((v) => v.effect !== "skip");
    if (rejecting.length > 0) {
      rejections.push({ action_id: a.id, violations: rejecting });
      for (const v of rejecting) if (v.source === "policy") emit({ kind: "policy_violation", action_id: a.id, data: { policy_name: v.name, reason: v.reason } });
      const error = `rejected: ${rejecting.map((v) => `${v.name}: ${v.reason}`).join("; ")}`;
      const r = finish(a, "rejected", { error }, t0);
      emit({ kind: "action_rejected", action_id: a.id, data: { reason: error, violations: rejecting.map(plainViolation), duration_ms: r.duration_ms } });
      if (a.failure_behavior !== "skip") abortProposal(a, "was rejected");
      return;
    }
    if (violations.length > 0) {
      // A guard asked to skip (an exhausted budget): the action never runs, the proposal goes on.
      const reason = violations.map((v) => v.reason).join("; ");
      const r = finish(a, "skipped", { error: reason }, t0);
      emit({ kind: "action_skipped", action_id: a.id, data: { reason, violations: violations.map(plainViolation), duration_ms: r.duration_ms } });
      return;
    }
    emit({ kind: "action_validated", action_id: a.id });

    const unmet = a.preconditions.find((p) => !checkPrecondition(p, state));
    if (unmet) {
      const error = `precondition failed: ${describePrecondition(unmet)}`;
      if (a.failure_behavior === "skip") return skip(a, error);
      return fail(a, new ActionFailure(error, "validation"), t0, 1);
    }

    const attempts = a.type === "tool_call" && a.failure_behavior === "retry" ? a.max_retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      emit({ kind: "action_executing", action_id: a.id, data: { attempt, params_digest: paramsDigest(parameters) } });
      try {
        const { output, changes } = await perform(a, parameters, attempt);
        applyEffects(a, changes);
        outputs.set(a.id, output);
        finish(a, "succeeded", { output, state_changes: changes }, t0);
        emit({ kind: "action_succeeded", action_id: a.id, data: { attempt, output, duration_ms: results.get(a.id)!.duration_ms } });
        return;
      } catch (err) {
        const failure = toFailure(err);
        const retryable = attempt < attempts && !failure.terminal && failure.errorClass !== "canceled" && !aborted;
        if (!retryable) return fail(a, failure, t0, attempt);
        const delay = ctx.retryBaseDelayMs * 2 ** (attempt - 1);
        cost.retries++;
        emit({ kind: "action_retrying", action_id: a.id, data: { attempt: attempt + 1, delay_ms: delay, error: failure.message, error_class: failure.errorClass } });
        try {
          await sleep(clock, delay, proposalSignal());
        } catch (e) {
          return fail(a, toFailure(e), t0, attempt);
        }
      }
    }
  };

  const fail = (a: Action, f: ActionFailure, t0: number, attempt: number) => {
    const r = finish(a, "failed", { error: f.message, ...(f.terminal ? { terminal: true as const } : {}) }, t0);
    emit({
      kind: "action_failed",
      action_id: a.id,
      data: { attempt, error: f.message, error_class: f.errorClass, params_digest: paramsDigest(a.parameters), expected_effects: Object.keys(a.expected_effects), duration_ms: r.duration_ms, ...(f.terminal ? { terminal: true } : {}) },
    });
    if (f.terminal) terminal = true;
    if (f.terminal || a.failure_behavior !== "skip") abortProposal(a, f.errorClass === "canceled" ? "was canceled" : "failed");
  };

  const perform = async (a: Action, parameters: Record<string, unknown>, attempt: number): Promise<{ output: unknown; changes: Record<string, unknown> }> => {
    switch (a.type) {
      case "tool_call": {
        const raw = await attemptTool(a, parameters, attempt);
        const output = raw === undefined ? null : raw;
        const problem = ctx.outputProblem?.(output);
        if (problem !== undefined) throw new ActionFailure(`tool output cannot be journalled: output${problem} (durable runtimes record JSON values only)`, "validation");
        const changes: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(a.expected_effects)) {
          changes[k] = resolveReferences(v, (id) => (id === a.id ? output : outputs.get(id) ?? null));
        }
        return { output, changes };
      }
      case "state_write": {
        const key = parameters["key"] as string;
        const value = parameters["value"] === undefined ? null : parameters["value"];
        return { output: value, changes: { [key]: value } };
      }
      case "state_read":
        return { output: state.get(parameters["key"] as string), changes: {} };
      case "assertion": {
        if (typeof parameters["key"] === "string") {
          const p = { key: parameters["key"], operator: typeof parameters["operator"] === "string" ? parameters["operator"] : "eq", value: parameters["value"] ?? null, description: typeof parameters["description"] === "string" ? parameters["description"] : "" };
          if (!checkPrecondition(p, state)) throw new ActionFailure(`assertion failed: ${describePrecondition(p)}`, "validation");
        }
        return { output: true, changes: {} };
      }
    }
  };

  if (!resume) emit({ kind: "state_snapshot", data: { keys: Object.keys(snapshot).length } });
  let barrierError: unknown;
  for (const level of dag.levels) {
    if (ctx.barrier !== undefined && barrierError === undefined) {
      try {
        await ctx.barrier();
      } catch (err) {
        // The journal lost events: nothing more may run, and the caller must hear of it.
        barrierError = err;
        abortRun(new CanceledError("engine", `journal write failed: ${messageOf(err)}`));
      }
    }
    if (level.length === 1) {
      await runAction(byId.get(level[0]!)!);
      continue;
    }
    const queue = level.map((id) => byId.get(id)!);
    const width = Math.max(1, ctx.maxConcurrentActions);
    let next = 0;
    const worker = async () => {
      while (next < queue.length) await runAction(queue[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(width, queue.length) }, worker));
  }
  signal?.removeEventListener("abort", onCallerAbort);

  const canceled = abortedBy === undefined && aborted;
  if (abortedBy !== undefined || canceled) {
    state.restore(snapshot);
    const rolledBack: string[] = [];
    for (const r of results.values()) {
      if (r.status === "succeeded") {
        r.rolled_back = true;
        rolledBack.push(r.action_id);
      }
    }
    emit({
      kind: "state_rollback",
      data: { reason: canceled ? `canceled: ${abortText()}` : `aborted by action ${abortedBy}`, rolled_back: rolledBack, warning: "state effects were rolled back; external effects may remain" },
    });
  } else {
    emit({ kind: "state_committed", data: { keys: state.keys().length } });
  }
  cost.total_duration_ms = Math.max(0, clock.now() - started);
  const ordered = proposal.actions.map((a) => results.get(a.id)!);
  const status = canceled ? "canceled" : abortedBy !== undefined ? "aborted" : "completed";
  emit({ kind: "proposal_completed", data: { status, cost: { ...cost }, ...(abortedBy !== undefined ? { aborted_by: abortedBy } : {}) } });
  if (barrierError !== undefined) throw barrierError;
  return { result: { proposal_id: proposal.id, results: ordered, cost }, abortedBy, canceled, terminal, rejections };
}

/** A violation as recorded in events (replay re-applies it verbatim). */
function plainViolation(v: Violation): Violation {
  return { source: v.source, name: v.name, reason: v.reason, ...(v.effect ? { effect: v.effect } : {}) };
}

function toFailure(err: unknown): ActionFailure {
  if (err instanceof ActionFailure) return err;
  if (err instanceof TerminalToolError) return new ActionFailure(messageOf(err), "tool_error", true);
  if (err instanceof CarError) {
    const cls: ErrorClass = err.code === "timeout" ? "timeout" : err.code === "canceled" ? "canceled" : err.code === "policy_violation" ? "rejected_by_policy" : err.code === "invalid_input" ? "validation" : "tool_error";
    return new ActionFailure(messageOf(err), cls, err.details?.["terminal"] === true);
  }
  return new ActionFailure(messageOf(err), "tool_error");
}
