import { z } from "zod";
import type { JsonValue } from "../ir/json.ts";
import { CarError } from "../errors.ts";
import { parseWith } from "../ir/parse.ts";
import type { Storage } from "../storage/storage.ts";

/**
 * A saved runtime (reference §4.9): the full state, the registered tool names, the event log for
 * audit (never replayed on restore) and free-form metadata.
 */
export const CheckpointSchema = z.object({
  checkpoint_id: z.string().min(1),
  created_at: z.string(),
  state: z.record(z.string(), z.unknown()),
  events: z.array(z.unknown()),
  tools: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

/** What `restoreCheckpoint` did. */
export interface RestoreReport {
  checkpoint_id: string;
  /** Keys in the restored state. */
  keys: number;
  /** Tools the checkpoint names that this runtime does not have (handlers cannot be saved). */
  missing_tools: string[];
}

/** Parses a checkpoint from untrusted input. */
export function parseCheckpoint(input: unknown): Checkpoint {
  return parseWith(CheckpointSchema, input, "checkpoint", "checkpoint");
}

/** Storage key prefix of checkpoints. */
export const CHECKPOINT_PREFIX = "checkpoints/";
/** Version of the stored envelope; reading another fails closed. */
export const CHECKPOINT_FORMAT_VERSION = 1;

/** Writes a checkpoint to storage under `checkpoints/<id>`; returns the key. */
export async function storeCheckpoint(storage: Storage, cp: Checkpoint): Promise<string> {
  const checked = parseCheckpoint(cp);
  const key = CHECKPOINT_PREFIX + checked.checkpoint_id;
  // Round-trip through JSON so that what is stored is exactly what will be read back.
  const value = JSON.parse(JSON.stringify({ format_version: CHECKPOINT_FORMAT_VERSION, checkpoint: checked })) as JsonValue;
  await storage.set(key, value);
  return key;
}

/** Reads a checkpoint written by `storeCheckpoint`; not_found when absent, corrupted when unreadable. */
export async function loadCheckpoint(storage: Storage, checkpointId: string): Promise<Checkpoint> {
  const raw = await storage.get(CHECKPOINT_PREFIX + checkpointId);
  if (raw === undefined) throw new CarError("not_found", "checkpoint", `no checkpoint "${checkpointId}"`);
  if (raw instanceof Uint8Array || raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new CarError("corrupted", "checkpoint", `checkpoint "${checkpointId}" is not a stored checkpoint envelope`);
  }
  if (raw["format_version"] !== CHECKPOINT_FORMAT_VERSION) {
    throw new CarError("corrupted", "checkpoint", `checkpoint "${checkpointId}" has format_version ${JSON.stringify(raw["format_version"])}; expected ${CHECKPOINT_FORMAT_VERSION}`);
  }
  try {
    return parseCheckpoint(raw["checkpoint"]);
  } catch (err) {
    throw new CarError("corrupted", "checkpoint", `checkpoint "${checkpointId}" is malformed: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Ids of the checkpoints in storage, sorted. */
export async function listCheckpoints(storage: Storage): Promise<string[]> {
  return (await storage.list(CHECKPOINT_PREFIX)).map((k) => k.slice(CHECKPOINT_PREFIX.length));
}
