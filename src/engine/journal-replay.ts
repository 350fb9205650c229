import type { AppendLog } from "../storage/storage.ts";
import { readJournalHistory } from "./durable-recover.ts";
import { replay, ReplayDivergenceError, type ReplayOptions, type ReplayResult } from "./replay.ts";

/** A proposal the journal shows received but never completed (its process died during it). */
export interface UnfinishedProposal {
  proposal_id: string;
  /** Actions whose outcome the journal recorded. */
  recorded: string[];
}

/** What `replayJournal` reproduced. */
export interface JournalReplay extends ReplayResult {
  /** Events read (snapshot records left out). */
  events: number;
  /** Proposals without a recorded end; their results and divergences are not in `results`/`divergences`. */
  unfinished: UnfinishedProposal[];
}

/**
 * Replays a journal (e.g. one a killed process left) without calling any tool: `replay` over its
 * events, starting from the state of its leading snapshot when it was compacted. A proposal that
 * never completed is replayed up to where the journal stops: an action without a recorded outcome
 * counts as failed, so an aborting proposal rolls back, as recovery would without its tools.
 * Such proposals are listed in `unfinished` instead of in `results`.
 */
export async function replayJournal(log: AppendLog, options: Omit<ReplayOptions, "initialState"> = {}): Promise<JournalReplay> {
  const { events, initialState } = await readJournalHistory(log);
  const received = new Map<string, Set<string>>();
  for (const e of events) {
    if (e.proposal_id === undefined) continue;
    if (e.kind === "proposal_received") received.set(e.proposal_id, new Set());
    else if (e.kind === "proposal_completed") received.delete(e.proposal_id);
    else if (e.action_id !== undefined && /^action_(succeeded|failed|rejected|skipped)$/.test(e.kind)) received.get(e.proposal_id)?.add(e.action_id);
  }
  const unfinished = [...received].map(([proposal_id, recorded]) => ({ proposal_id, recorded: [...recorded] }));
  const open = new Set(received.keys());
  const { strict, ...rest } = options;
  const result = await replay(events, { ...rest, initialState });
  const divergences = result.divergences.filter((d) => d.proposal_id === undefined || !open.has(d.proposal_id));
  if (strict && divergences.length > 0) throw new ReplayDivergenceError(divergences);
  return { results: result.results.filter((r) => !open.has(r.proposal_id)), finalState: result.finalState, divergences, events: events.length, unfinished };
}
