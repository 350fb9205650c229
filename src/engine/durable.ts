import { CarError } from "../errors.ts";
import type { AppendLog } from "../storage/storage.ts";
import type { RecoveryReport } from "./durable-recover.ts";
import { Runtime, type RuntimeOptions } from "./runtime.ts";

export { DEFAULT_SNAPSHOT_GROWTH_FACTOR, DEFAULT_SNAPSHOT_MIN_BYTES, type DurabilityOptions, type JournalCompaction, type JournalStats, type SnapshotPolicy } from "./durable-journal.ts";
export { readJournal, readJournalHistory, type JournalHistory, type RecoveryReport, type ResumedProposal } from "./durable-recover.ts";
export { replayJournal, type JournalReplay, type UnfinishedProposal } from "./journal-replay.ts";
export { JOURNAL_SNAPSHOT_VERSION, type JournalSnapshotBody } from "./journal-fold.ts";

/** Options of `openDurableRuntime`: a Runtime's options with its journal, and a setup step. */
export interface DurableRuntimeOptions extends RuntimeOptions {
  journal: AppendLog;
  /** Registers tools, policies… before recovery runs unfinished proposals with them. */
  setup?: (runtime: Runtime) => void | Promise<void>;
}

/**
 * Opens a Runtime on a journal: creates it, runs `setup`, then `recover()`s whatever an earlier
 * process left (state, events, unfinished proposals). On an empty journal it simply starts.
 */
export async function openDurableRuntime(options: DurableRuntimeOptions): Promise<{ runtime: Runtime; recovery: RecoveryReport }> {
  if (!options.journal) throw new CarError("invalid_input", "engine:durable", "openDurableRuntime needs a journal (an AppendLog)");
  const { setup, ...runtimeOptions } = options;
  const runtime = new Runtime(runtimeOptions);
  await setup?.(runtime);
  const recovery = await runtime.recover();
  return { runtime, recovery };
}
