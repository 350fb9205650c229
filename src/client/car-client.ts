import type { z } from "zod";
import { CanceledError } from "../errors.ts";
import type { ChainVerification } from "../engine/event-log.ts";
import type { ActionProposalInput } from "../ir/proposal.ts";
import type { ProposalResult } from "../ir/results.ts";
import type { ToolSchemaInput } from "../ir/tool-schema.ts";
import type { RunInfo } from "../multi/coordinator.ts";
import type { MapReduceResult } from "../multi/map-reduce.ts";
import type { MapReduceParams, PipelineParams, SupervisorParams, SwarmParams, TournamentParams, VoteParams } from "../multi/params.ts";
import type { PipelineResult } from "../multi/pipeline.ts";
import { answerRunAgent, type AgentRunner } from "../multi/runner.ts";
import type { SupervisorResult } from "../multi/supervisor.ts";
import type { SwarmResult } from "../multi/swarm.ts";
import type { TournamentResult } from "../multi/tournament.ts";
import type { VoteResult } from "../multi/vote.ts";
import type { SchedulerCancelParams, SchedulerCancelResult, SchedulerListResult, SchedulerRunLoopParams, SchedulerRunParams } from "../scheduler/methods.ts";
import type { CreateTaskParams, Task, TaskExecution } from "../scheduler/schemas.ts";
import { ToolsExecuteParamsSchema, type ToolsExecuteParams } from "../protocol/callbacks.ts";
import type { HandshakeResult, SessionAuthResult, SessionInitResult } from "../server/methods/session.ts";
import type { EventsQueryParams, EventsQueryResult } from "../server/methods/events.ts";
import type { ToolsListResult, ToolsUnregisterResult } from "../server/methods/tools.ts";
import type * as M from "../memgine/schemas.ts";
import type { ProposalSubmitParams } from "../server/methods/proposal.ts";
import type {
  Checkpoint, CheckpointIdParams, CheckpointRestoreParams, CheckpointSaveParams, EquivalentParams, OptimizeParams, OptimizeReport, PlanRankParams,
  PolicyListParams, PolicyListResult, PolicyRegisterParams, PolicyRegisterResult, PolicyUnregisterParams, PolicyUnregisterResult, ReplanConfigResult,
  ReplanProposeParams, ReplanSetConfigParams, RestoreReport, ScoredProposal, SimulateParams, SimulationResult, VerifyParams, VerifyResult,
} from "../server/governance/index.ts";
import { RpcClient, type RpcClientOptions } from "./rpc-client.ts";
import { serveRunnerCall, type AdmissionStatus, type ClassifyParamsInput, type ClassifyResult, type DetokenizeParamsInput, type DetokenizeResult, type EmbedParamsInput, type EmbedResult, type GenerateResult, type InferParams, type InferStreamResult, type ModelProfile, type ModelSchema, type ModelsPullResult, type ModelsRegisterResult, type ModelsRemoveResult, type PullProgress, type RegisterModelInput, type RerankParamsInput, type RerankResult, type RouteParamsInput, type RouteResult, type RunnerHandler, type RunnerInvoke, type StreamEvent, type TokenizeParamsInput, type TokenizeResult, type UnifiedModelRow } from "./inference.ts";

/** Answers one `tools.execute` call: return the tool's output, or throw to report a tool error. */
export type ToolCallHandler = (call: ToolsExecuteParams, context: { signal: AbortSignal }) => unknown;

/** Answers one `replan.propose` call: a new proposal (an `id` is added when missing), or null to stop replanning. */
export type ReplanHandler = (context: ReplanProposeParams, options: { signal: AbortSignal }) => ActionProposalInput | null | undefined | Promise<ActionProposalInput | null | undefined>;

/** Options of a `CarClient`. */
export interface CarClientOptions extends RpcClientOptions {
  /** Answers `tools.execute` calls that no `submitProposal({onToolCall})` claims. */
  onToolCall?: ToolCallHandler;
  /** Runs the agent turns the daemon delegates with `multi.run_agent` (see `onRunAgent`). */
  onRunAgent?: AgentRunner;
}

/** Params of methods whose features land later: passed through as given. */
type Params = Record<string, unknown>;
/** What a feature's params schema accepts (defaults optional). */
type In<S extends z.ZodType> = z.input<S>;
/** What a feature's result schema describes. */
type Out<S extends z.ZodType> = z.output<S>;

function proposalId(): string {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * The typed daemon client (`car-server/client`): one method per daemon method, plus
 * `submitProposal(proposal, {onToolCall})`, which answers the `tools.execute` callbacks of that
 * proposal. Runs wherever a WebSocket does (Node, Bun, Deno, browsers).
 */
export class CarClient extends RpcClient {
  private readonly toolHandlers = new Map<string, ToolCallHandler>();
  /** Replanned proposal id → the submitted proposal whose `onToolCall` answers its tools. */
  private readonly replanRoots = new Map<string, string>();
  /** `infer_stream` / `models.pull` requests in flight: their notifications, by request id. */
  private readonly requestListeners = new Map<string | number, (method: string, params: Record<string, unknown>) => void>();
  private runner: RunnerHandler | undefined;

  constructor(options: CarClientOptions = {}) {
    super(options);
    this.handle("tools.execute", (_m, raw, { signal }) => {
      const call = ToolsExecuteParamsSchema.parse(raw);
      const pid = call.proposal_id;
      const handler = (pid !== undefined ? (this.toolHandlers.get(pid) ?? this.toolHandlers.get(this.replanRoots.get(pid) ?? "")) : undefined) ?? options.onToolCall;
      if (!handler) throw new Error(`unknown tool: no handler for ${call.tool}`);
      return handler(call, { signal });
    });
    if (options.onRunAgent) this.onRunAgent(options.onRunAgent);
  }

  /**
   * Answers the daemon's `multi.run_agent` calls (the agent turns of `multi.*` patterns and of
   * scheduled tasks) with `runner`. Its signal aborts on `multi.cancel` or when the connection
   * closes. The output goes back as returned: the daemon checks it strictly, and a malformed one
   * fails the pattern with an error naming the field.
   */
  onRunAgent(runner: AgentRunner): void {
    this.handle("multi.run_agent", (_m, params, { signal }) => answerRunAgent(params, runner, signal, { checkOutput: false }));
  }

  /** Executes a proposal; `onToolCall` answers its tool calls (falls back to the client's `onToolCall`). */
  async submitProposal(proposal: ActionProposalInput, options: { onToolCall?: ToolCallHandler; session_id?: string; scope?: ProposalSubmitParams["scope"] } = {}): Promise<ProposalResult> {
    const p = { ...proposal, id: proposal.id ?? proposalId() };
    if (options.onToolCall) this.toolHandlers.set(p.id, options.onToolCall);
    try {
      return await this.request<ProposalResult>("proposal.submit", { proposal: p, ...(options.session_id ? { session_id: options.session_id } : {}), ...(options.scope ? { scope: options.scope } : {}) });
    } finally {
      this.toolHandlers.delete(p.id);
      for (const [id, root] of this.replanRoots) if (root === p.id) this.replanRoots.delete(id);
    }
  }

  /**
   * Answers the daemon's `replan.propose` requests (enable them with `replanSetConfig({callback: true, …})`).
   * The tools of a replanned proposal are answered by the `onToolCall` of the proposal it replaces.
   */
  onReplan(handler: ReplanHandler): void {
    this.handle("replan.propose", async (_m, raw, { signal }) => {
      const ctx = raw as ReplanProposeParams;
      const next = await handler(ctx, { signal });
      if (next === null || next === undefined) return null;
      const id = next.id ?? proposalId();
      const root = this.replanRoots.get(ctx.proposal.id) ?? ctx.proposal.id;
      if (this.toolHandlers.has(root)) this.replanRoots.set(id, root);
      return { ...next, id };
    });
  }

  /** Final state of a static simulation (`detailed: true`: also the blocked actions and unknown keys). */
  simulate(p: SimulateParams & { detailed: true }): Promise<SimulationResult>;
  simulate(p: SimulateParams): Promise<Record<string, unknown>>;
  simulate(p: SimulateParams): Promise<unknown> {
    return this.request("simulate", p);
  }

  /** The proposal with phantom dependencies pruned (`detailed: true`: the report). */
  optimize(p: OptimizeParams & { detailed: true }): Promise<OptimizeReport>;
  optimize(p: OptimizeParams): Promise<ActionProposalInput>;
  optimize(p: OptimizeParams): Promise<unknown> {
    return this.request("optimize", p);
  }

  /** Routes per-request inference notifications, and serves `inference.runner.invoke` with the registered runner. */
  protected override onNotification(method: string, params: unknown): void {
    if (typeof params === "object" && params !== null) {
      const p = params as Record<string, unknown>;
      const id = method === "inference.stream.event" ? p["request_id"] : method === "models.pull_progress" ? p["model_id"] : undefined;
      if (typeof id === "string" || typeof id === "number") this.requestListeners.get(method === "models.pull_progress" ? `pull:${id}` : id)?.(method, p);
      const runner = this.runner;
      // A call belongs to the session that received it: once that connection is gone, answering would only reconnect for nothing.
      const send = (m: string, x: unknown) => (this.isOpen ? this.request(m, x) : Promise.reject(new CanceledError("client", "the runner's connection closed")));
      if (method === "inference.runner.invoke" && runner) void serveRunnerCall(send, runner, params as RunnerInvoke);
    }
    super.onNotification(method, params);
  }

  /** `infer_stream`: resolves with the result and the request's events; `onEvent` sees each as it arrives. */
  async inferStream(params: InferParams, options: { onEvent?: (event: StreamEvent) => void } = {}): Promise<InferStreamResult> {
    const events: StreamEvent[] = [];
    let id: number | undefined;
    try {
      const result = await this.requestWithId<GenerateResult>("infer_stream", params, (n) => {
        id = n;
        this.requestListeners.set(n, (_m, p) => {
          const event = p["event"] as StreamEvent;
          events.push(event);
          options.onEvent?.(event);
        });
      });
      return { ...result, events };
    } finally {
      if (id !== undefined) this.requestListeners.delete(id);
    }
  }

  /** `models.pull`: loads a model's weights now; `onProgress` receives its `models.pull_progress` notifications. */
  async modelsPull(id: string, options: { onProgress?: (p: PullProgress) => void } = {}): Promise<ModelsPullResult> {
    const key = `pull:${id}`;
    if (options.onProgress) this.requestListeners.set(key, (_m, p) => options.onProgress!(p as unknown as PullProgress));
    try {
      return await this.request<ModelsPullResult>("models.pull", { id });
    } finally {
      if (options.onProgress) this.requestListeners.delete(key);
    }
  }

  /**
   * Makes this client the daemon's delegated runner (`inference.register_runner`): models with
   * `source.type: "delegated"` are generated by `handler`. A reconnected session must register again.
   */
  async registerRunner(handler: RunnerHandler): Promise<{ registered: boolean }> {
    this.runner = handler;
    return await this.request<{ registered: boolean }>("inference.register_runner", {});
  }

  // session / server
  sessionAuth = (p: { token?: string; agent_id?: string; memory_namespace?: string }) => this.request<SessionAuthResult>("session.auth", p);
  serverHandshake = (p: { protocol_version: number; client_version?: string } = { protocol_version: 2 }) => this.request<HandshakeResult>("server.handshake", p);
  sessionInit = (p: { tools?: ToolSchemaInput[]; policies?: PolicyRegisterParams[] }) => this.request<SessionInitResult>("session.init", p);
  // tools
  toolsRegister = (tools: ToolSchemaInput[]) => this.request<number>("tools.register", tools);
  toolsList = () => this.request<ToolsListResult>("tools.list", {});
  toolsUnregister = (name: string) => this.request<ToolsUnregisterResult>("tools.unregister", { name });
  // state
  stateGet = (key: string, tenant_id?: string) => this.request<unknown>("state.get", { key, tenant_id });
  stateSet = (key: string, value: unknown, tenant_id?: string) => this.request<"ok">("state.set", { key, value, tenant_id });
  stateExists = (key: string, tenant_id?: string) => this.request<boolean>("state.exists", { key, tenant_id });
  stateKeys = (tenant_id?: string) => this.request<string[]>("state.keys", { tenant_id });
  stateSnapshot = (tenant_id?: string) => this.request<Record<string, unknown>>("state.snapshot", { tenant_id });
  stateDelete = (key: string, tenant_id?: string) => this.request<{ deleted: boolean }>("state.delete", { key, tenant_id });
  // events
  eventsCount = () => this.request<number>("events.count", {});
  eventsQuery = (q: EventsQueryParams = {}) => this.request<EventsQueryResult>("events.query", q);
  eventsChainEnable = () => this.request<{ ok: boolean }>("events.chain.enable", {});
  eventsChainVerify = () => this.request<ChainVerification>("events.chain.verify", {});
  // policies, replan, checkpoints
  policyRegister = (p: PolicyRegisterParams) => this.request<PolicyRegisterResult>("policy.register", p);
  policyUnregister = (p: PolicyUnregisterParams) => this.request<PolicyUnregisterResult>("policy.unregister", p);
  policyList = (p: PolicyListParams = {}) => this.request<PolicyListResult>("policy.list", p);
  sessionPolicyOpen = () => this.request<{ session_id: string }>("session.policy.open", {});
  sessionPolicyClose = (session_id: string) => this.request<{ closed: boolean }>("session.policy.close", { session_id });
  replanSetConfig = (p: ReplanSetConfigParams) => this.request<null>("replan.set_config", p);
  replanGetConfig = () => this.request<ReplanConfigResult>("replan.get_config", {});
  checkpointSave = (p: CheckpointSaveParams = {}) => this.request<Checkpoint>("checkpoint.save", p);
  checkpointRestore = (p: CheckpointRestoreParams) => this.request<RestoreReport>("checkpoint.restore", p);
  checkpointList = () => this.request<{ checkpoints: string[] }>("checkpoint.list", {});
  checkpointDelete = (p: CheckpointIdParams) => this.request<{ deleted: boolean }>("checkpoint.delete", p);
  // verification and planning (simulate and optimize are methods above)
  verify = (p: VerifyParams) => this.request<VerifyResult>("verify", p);
  equivalent = (p: EquivalentParams) => this.request<boolean>("equivalent", p);
  planRank = (p: PlanRankParams) => this.request<ScoredProposal[]>("plan.rank", p);
  // memory and skills
  memoryAddFact = (p: In<typeof M.MemoryAddFactParams>) => this.request<Out<typeof M.FactCountResult>>("memory.add_fact", p);
  memoryQuery = (p: In<typeof M.MemoryQueryParams>) => this.request<Out<typeof M.MemoryQueryResult>>("memory.query", p);
  memoryBuildContext = (p: In<typeof M.MemoryBuildContextParams>) => this.request<Out<typeof M.ContextResult>>("memory.build_context", p);
  memoryBuildContextFast = (p: In<typeof M.MemoryBuildContextFastParams> = {}) => this.request<Out<typeof M.ContextResult>>("memory.build_context_fast", p);
  memoryPersist = (p: In<typeof M.MemoryPathParams>) => this.request<Out<typeof M.FactCountResult>>("memory.persist", p);
  memoryLoad = (p: In<typeof M.MemoryPathParams>) => this.request<Out<typeof M.FactCountResult>>("memory.load", p);
  memoryConsolidate = () => this.request<Out<typeof M.MemoryConsolidateResult>>("memory.consolidate", {});
  memoryFactCount = () => this.request<Out<typeof M.FactCountResult>>("memory.fact_count", {});
  memoryDelete = (p: In<typeof M.MemoryDeleteParams>) => this.request<Out<typeof M.MemoryDeleteResult>>("memory.delete", p);
  skillIngest = (p: In<typeof M.SkillIngestParams>) => this.request<Out<typeof M.SkillIngestResult>>("skill.ingest", p);
  skillFind = (p: In<typeof M.SkillFindParams> = {}) => this.request<Out<typeof M.SkillFindResult>>("skill.find", p);
  skillReport = (p: In<typeof M.SkillReportParams>) => this.request<Out<typeof M.SkillReportResult>>("skill.report", p);
  skillRepair = (p: In<typeof M.SkillRepairParams>) => this.request<Out<typeof M.SkillRepairResult>>("skill.repair", p);
  skillsList = (p: In<typeof M.SkillsListParams> = {}) => this.request<Out<typeof M.SkillsListResult>>("skills.list", p);
  skillsDistill = (p: In<typeof M.SkillsDistillParams>) => this.request<Out<typeof M.DistilledSkillsResult>>("skills.distill", p);
  skillsIngestDistilled = (p: In<typeof M.SkillsIngestDistilledParams>) => this.request<Out<typeof M.SkillsIngestDistilledResult>>("skills.ingest_distilled", p);
  skillsEvolve = (p: In<typeof M.SkillsEvolveParams>) => this.request<Out<typeof M.DistilledSkillsResult>>("skills.evolve", p);
  skillsDomainsNeedingEvolution = (p: In<typeof M.SkillsDomainsParams> = {}) => this.request<Out<typeof M.SkillsDomainsResult>>("skills.domains_needing_evolution", p);
  // multi-agent: the daemon runs each agent turn on this client (`onRunAgent`)
  multiSwarm = (p: SwarmParams) => this.request<SwarmResult & RunInfo>("multi.swarm", p);
  multiPipeline = (p: PipelineParams) => this.request<PipelineResult & RunInfo>("multi.pipeline", p);
  multiSupervisor = (p: SupervisorParams) => this.request<SupervisorResult & RunInfo>("multi.supervisor", p);
  multiMapReduce = (p: MapReduceParams) => this.request<MapReduceResult & RunInfo>("multi.map_reduce", p);
  multiVote = (p: VoteParams) => this.request<VoteResult & RunInfo>("multi.vote", p);
  multiTournament = (p: TournamentParams) => this.request<TournamentResult & RunInfo>("multi.tournament", p);
  // scheduler: scheduler.run / run_loop run the task's agent turn on this client (`onRunAgent`)
  schedulerCreate = (p: CreateTaskParams) => this.request<Task>("scheduler.create", p);
  schedulerRun = (p: SchedulerRunParams) => this.request<TaskExecution>("scheduler.run", p);
  schedulerRunLoop = (p: SchedulerRunLoopParams) => this.request<TaskExecution[]>("scheduler.run_loop", p);
  schedulerList = () => this.request<SchedulerListResult>("scheduler.list", {});
  schedulerCancel = (p: SchedulerCancelParams) => this.request<SchedulerCancelResult>("scheduler.cancel", p);
  // inference (infer_stream, models.pull and registerRunner are methods above)
  infer = (p: InferParams) => this.request<GenerateResult>("infer", p);
  embed = (p: EmbedParamsInput) => this.request<EmbedResult>("embed", p);
  classify = (p: ClassifyParamsInput) => this.request<ClassifyResult>("classify", p);
  rerank = (p: RerankParamsInput) => this.request<RerankResult>("rerank", p);
  tokenize = (p: TokenizeParamsInput) => this.request<TokenizeResult>("tokenize", p);
  detokenize = (p: DetokenizeParamsInput) => this.request<DetokenizeResult>("detokenize", p);
  modelsList = () => this.request<{ models: ModelSchema[] }>("models.list", {});
  modelsListUnified = () => this.request<{ models: UnifiedModelRow[] }>("models.list_unified", {});
  modelsRemove = (id: string) => this.request<ModelsRemoveResult>("models.remove", { id });
  modelsRegister = (model: RegisterModelInput) => this.request<ModelsRegisterResult>("models.register", model);
  modelsRoute = (p: RouteParamsInput) => this.request<RouteResult>("models.route", p);
  modelsStats = () => this.request<{ profiles: ModelProfile[] }>("models.stats", {});
  inferenceRegisterRunner = () => this.request<{ registered: boolean }>("inference.register_runner", {});
  inferenceRunnerEvent = (p: { call_id: string; event: unknown }) => this.request<{ ok: true }>("inference.runner.event", p);
  inferenceRunnerComplete = (p: { call_id: string; result?: { text?: string; tool_calls?: unknown[] } }) => this.request<{ ok: true }>("inference.runner.complete", p);
  inferenceRunnerFail = (p: { call_id: string; error: unknown }) => this.request<{ ok: true }>("inference.runner.fail", p);
  admissionStatus = () => this.request<AdmissionStatus>("admission.status", {});
}
