import { CanceledError } from "../errors.ts";
import type { ChainVerification } from "../engine/event-log.ts";
import type { ActionProposalInput } from "../ir/proposal.ts";
import type { ProposalResult } from "../ir/results.ts";
import type { ToolSchemaInput } from "../ir/tool-schema.ts";
import { ToolsExecuteParamsSchema, type ToolsExecuteParams } from "../protocol/callbacks.ts";
import type { HandshakeResult, SessionAuthResult, SessionInitResult } from "../server/methods/session.ts";
import type { EventsQueryParams, EventsQueryResult } from "../server/methods/events.ts";
import type { ToolsListResult, ToolsUnregisterResult } from "../server/methods/tools.ts";
import { RpcClient, type RpcClientOptions } from "./rpc-client.ts";
import { serveRunnerCall, type AdmissionStatus, type ClassifyParamsInput, type ClassifyResult, type DetokenizeParamsInput, type DetokenizeResult, type EmbedParamsInput, type EmbedResult, type GenerateResult, type InferParams, type InferStreamResult, type ModelProfile, type ModelSchema, type ModelsPullResult, type ModelsRegisterResult, type ModelsRemoveResult, type PullProgress, type RegisterModelInput, type RerankParamsInput, type RerankResult, type RouteParamsInput, type RouteResult, type RunnerHandler, type RunnerInvoke, type StreamEvent, type TokenizeParamsInput, type TokenizeResult, type UnifiedModelRow } from "./inference.ts";

/** Answers one `tools.execute` call: return the tool's output, or throw to report a tool error. */
export type ToolCallHandler = (call: ToolsExecuteParams, context: { signal: AbortSignal }) => unknown;

/** Options of a `CarClient`. */
export interface CarClientOptions extends RpcClientOptions {
  /** Answers `tools.execute` calls that no `submitProposal({onToolCall})` claims. */
  onToolCall?: ToolCallHandler;
}

/** Params of methods whose features land later: passed through as given. */
type Params = Record<string, unknown>;

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
  /** `infer_stream` / `models.pull` requests in flight: their notifications, by request id. */
  private readonly requestListeners = new Map<string | number, (method: string, params: Record<string, unknown>) => void>();
  private runner: RunnerHandler | undefined;

  constructor(options: CarClientOptions = {}) {
    super(options);
    this.handle("tools.execute", (_m, raw, { signal }) => {
      const call = ToolsExecuteParamsSchema.parse(raw);
      const handler = (call.proposal_id !== undefined ? this.toolHandlers.get(call.proposal_id) : undefined) ?? options.onToolCall;
      if (!handler) throw new Error(`unknown tool: no handler for ${call.tool}`);
      return handler(call, { signal });
    });
  }

  /** Executes a proposal; `onToolCall` answers its tool calls (falls back to the client's `onToolCall`). */
  async submitProposal(proposal: ActionProposalInput, options: { onToolCall?: ToolCallHandler; session_id?: string; scope?: Params } = {}): Promise<ProposalResult> {
    const p = { ...proposal, id: proposal.id ?? proposalId() };
    if (options.onToolCall) this.toolHandlers.set(p.id, options.onToolCall);
    try {
      return await this.request<ProposalResult>("proposal.submit", { proposal: p, ...(options.session_id ? { session_id: options.session_id } : {}), ...(options.scope ? { scope: options.scope } : {}) });
    } finally {
      this.toolHandlers.delete(p.id);
    }
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
  sessionInit = (p: { tools?: ToolSchemaInput[]; policies?: Params[] }) => this.request<SessionInitResult>("session.init", p);
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
  // policies (answer -32601 until the policies feature is built in)
  policyRegister = (p: Params) => this.request("policy.register", p);
  policyUnregister = (p: { name: string; session_id?: string }) => this.request("policy.unregister", p);
  policyList = (p: { session_id?: string } = {}) => this.request("policy.list", p);
  sessionPolicyOpen = () => this.request<{ session_id: string }>("session.policy.open", {});
  sessionPolicyClose = (session_id: string) => this.request("session.policy.close", { session_id });
  replanSetConfig = (p: Params) => this.request("replan.set_config", p);
  checkpointSave = (p: Params = {}) => this.request("checkpoint.save", p);
  checkpointRestore = (p: Params) => this.request("checkpoint.restore", p);
  // verification and planning
  verify = (p: { proposal: ActionProposalInput; initial_state?: Params }) => this.request("verify", p);
  simulate = (p: { proposal: ActionProposalInput; initial_state?: Params }) => this.request("simulate", p);
  equivalent = (p: Params) => this.request("equivalent", p);
  optimize = (p: Params) => this.request("optimize", p);
  planRank = (p: Params) => this.request("plan.rank", p);
  // memory and skills
  memoryAddFact = (p: { subject: string; body: string; kind?: string }) => this.request<number>("memory.add_fact", p);
  memoryQuery = (p: { query: string; k?: number }) => this.request("memory.query", p);
  memoryBuildContext = (p: { query: string; model_context_window?: number }) => this.request<string>("memory.build_context", p);
  memoryBuildContextFast = (p: { query: string; model_context_window?: number }) => this.request<string>("memory.build_context_fast", p);
  memoryPersist = (p: { path: string }) => this.request<number>("memory.persist", p);
  memoryLoad = (p: { path: string }) => this.request<number>("memory.load", p);
  memoryConsolidate = () => this.request("memory.consolidate", {});
  memoryFactCount = () => this.request<number>("memory.fact_count", {});
  memoryDelete = (p: { id: string }) => this.request("memory.delete", p);
  skillIngest = (p: Params) => this.request("skill.ingest", p);
  skillFind = (p: Params) => this.request("skill.find", p);
  skillReport = (p: Params) => this.request("skill.report", p);
  skillRepair = (p: Params) => this.request("skill.repair", p);
  skillsList = (p: { domain?: string } = {}) => this.request("skills.list", p);
  skillsDistill = (p: Params) => this.request("skills.distill", p);
  skillsIngestDistilled = (p: Params) => this.request("skills.ingest_distilled", p);
  skillsEvolve = (p: Params) => this.request("skills.evolve", p);
  skillsDomainsNeedingEvolution = (p: { threshold?: number } = {}) => this.request("skills.domains_needing_evolution", p);
  // multi-agent (the daemon calls back `multi.run_agent`: answer it with client.handle("multi.run_agent", …))
  multiSwarm = (p: Params) => this.request("multi.swarm", p);
  multiPipeline = (p: Params) => this.request("multi.pipeline", p);
  multiSupervisor = (p: Params) => this.request("multi.supervisor", p);
  multiMapReduce = (p: Params) => this.request("multi.map_reduce", p);
  multiVote = (p: Params) => this.request("multi.vote", p);
  multiTournament = (p: Params) => this.request("multi.tournament", p);
  // scheduler
  schedulerCreate = (p: Params) => this.request("scheduler.create", p);
  schedulerRun = (p: Params) => this.request("scheduler.run", p);
  schedulerRunLoop = (p: Params) => this.request("scheduler.run_loop", p);
  schedulerList = (p: Params = {}) => this.request("scheduler.list", p);
  schedulerCancel = (p: Params) => this.request("scheduler.cancel", p);
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
