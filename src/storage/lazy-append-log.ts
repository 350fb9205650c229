import { closedError } from "./records.ts";
import type { AppendLog, LogRecord } from "./storage.ts";

/**
 * An AppendLog that is opened on first use, so that a journal nobody writes to never exists
 * (a daemon session that records nothing leaves no file). Opening fails the call that needed it,
 * and every later one with the same error. `close()` before any use opens nothing.
 */
export function lazyAppendLog(open: () => Promise<AppendLog>): AppendLog {
  let opened: Promise<AppendLog> | undefined;
  const get = () => (opened ??= open());
  return {
    append: async (data) => (await get()).append(data),
    async *read(offset?: number): AsyncIterable<LogRecord> {
      yield* (await get()).read(offset);
    },
    compact: async (keep) => (await get()).compact(keep),
    async close() {
      if (!opened) {
        // Nothing was opened, and nothing may be from now on.
        opened = Promise.reject(closedError("storage"));
        opened.catch(() => {});
        return;
      }
      const log = await opened.catch(() => undefined);
      await log?.close();
    },
  };
}
