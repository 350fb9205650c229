import type { ChainVerification } from "../engine/event-log.ts";
import type { ActionProposalInput } from "../ir/proposal.ts";
import type { ProposalResult } from "../ir/results.ts";
import type { ToolSchemaInput } from "../ir/tool-schema.ts";
import { ToolsExecuteParamsSchema, type ToolsExecuteParams } from "../protocol/callbacks.ts";
import type { HandshakeResult, SessionAuthResult, SessionInitResult } from "../server/methods/session.ts";
import type { EventsQueryParams, EventsQueryResult } from "../server/methods/events.ts";
import type { ToolsListResult, ToolsUnregisterResult } from "../server/methods/tools.ts";
import type { ProposalSubmitParams } from "../server/methods/proposal.ts";
import type {
  Checkpoint, CheckpointIdParams, CheckpointRestoreParams, CheckpointSaveParams, EquivalentParams, OptimizeParams, OptimizeReport, PlanRankParams,
  PolicyListParams, PolicyListResult, PolicyRegisterParams, PolicyRegisterResult, PolicyUnregisterParams, PolicyUnregisterResult, ReplanConfigResult,
  ReplanProposeParams, ReplanSetConfigParams, RestoreReport, ScoredProposal, SimulateParams, SimulationResult, VerifyParams, VerifyResult,
} from "../server/governance/index.ts";
import { RpcClient, type RpcClientOptions } from "./rpc-client.ts";

/** Answers one `tools.execute` call: return the tool's output, or throw to report a tool error. */
export type ToolCallHandler = (call: ToolsExecuteParams, context: { signal: AbortSignal }) => unknown;

/** Answers one `replan.propose` call: a new proposal (an `id` is added when missing), or null to stop replanning. */
export type ReplanHandler = (context: ReplanProposeParams, options: { signal: AbortSignal }) => ActionProposalInput | null | undefined | Promise<ActionProposalInput | null | undefined>;

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
  /** Replanned proposal id → the submitted proposal whose `onToolCall` answers its tools. */
  private readonly replanRoots = new Map<string, string>();

  constructor(options: CarClientOptions = {}) {
    super(options);
    this.handle("tools.execute", (_m, raw, { signal }) => {
      const call = ToolsExecuteParamsSchema.parse(raw);
      const pid = call.proposal_id;
      const handler = (pid !== undefined ? (this.toolHandlers.get(pid) ?? this.toolHandlers.get(this.replanRoots.get(pid) ?? "")) : undefined) ?? options.onToolCall;
      if (!handler) throw new Error(`unknown tool: no handler for ${call.tool}`);
      return handler(call, { signal });
    });
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
  // inference
  infer = (p: Params) => this.request("infer", p);
  inferStream = (p: Params) => this.request("infer_stream", p);
  embed = (p: Params) => this.request("embed", p);
  classify = (p: Params) => this.request("classify", p);
  rerank = (p: Params) => this.request("rerank", p);
  modelsList = () => this.request("models.list", {});
  modelsListUnified = () => this.request("models.list_unified", {});
  modelsPull = (p: Params) => this.request("models.pull", p);
  modelsRemove = (p: Params) => this.request("models.remove", p);
  modelsRegister = (p: Params) => this.request("models.register", p);
  modelsRoute = (p: Params) => this.request("models.route", p);
  modelsStats = () => this.request("models.stats", {});
  inferenceRegisterRunner = () => this.request("inference.register_runner", {});
  inferenceRunnerEvent = (p: Params) => this.request("inference.runner.event", p);
  inferenceRunnerComplete = (p: Params) => this.request("inference.runner.complete", p);
  inferenceRunnerFail = (p: Params) => this.request("inference.runner.fail", p);
  admissionStatus = () => this.request("admission.status", {});
}
