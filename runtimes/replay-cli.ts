import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import process from "node:process";
import { createFsAppendLog } from "../adapters/storage/fs.ts";
import { replayJournal } from "../src/engine/journal-replay.ts";

/**
 * `car-server replay JOURNAL`: replays a session journal (one a killed daemon left, say) without
 * calling any tool and prints `{journal, events, results, final_state, divergences, unfinished}`
 * as JSON. Returns the exit status: 0 when the replay matched the recording, 1 when it diverged
 * or the journal could not be read, 2 on a usage error.
 */
export async function runReplay(args: string[]): Promise<number> {
  if (args.length !== 1 || args[0]!.startsWith("-")) {
    process.stderr.write("usage: car-server replay JOURNAL   (a $CAR_HOME/journals/<session-id>.log file)\n");
    return 2;
  }
  const path = resolve(args[0]!);
  let log;
  try {
    // Never create one: opening a missing log would.
    if (!(await stat(path)).isFile()) throw new Error("not a file");
    // Opening takes the log's lock (a dead daemon's stale lock is taken over) and cuts a torn tail.
    log = await createFsAppendLog({ path, onTornTail: (t) => process.stderr.write(`car-server: ${path}: cut a torn tail of ${t.droppedBytes} bytes at offset ${t.offset} (${t.reason})\n`) });
  } catch (err) {
    process.stderr.write(`car-server: cannot open the journal ${path}: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const r = await replayJournal(log);
    const out = { journal: path, events: r.events, results: r.results, final_state: r.finalState, divergences: r.divergences, unfinished: r.unfinished };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    if (r.divergences.length > 0) process.stderr.write(`car-server: the replay diverged from the recording in ${r.divergences.length} place(s)\n`);
    return r.divergences.length > 0 ? 1 : 0;
  } catch (err) {
    process.stderr.write(`car-server: cannot replay ${path}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await log.close();
  }
}
