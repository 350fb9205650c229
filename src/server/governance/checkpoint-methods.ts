import { z } from "zod";
import { CarError } from "../../errors.ts";
import { CheckpointSchema, listCheckpoints, loadCheckpoint, storeCheckpoint, CHECKPOINT_PREFIX, type Checkpoint, type RestoreReport } from "../../engine/checkpoint.ts";
import type { Storage } from "../../storage/storage.ts";
import { method, type ServerMethodTable } from "../context.ts";

export const CheckpointSaveParams = z.object({
  metadata: z.record(z.string(), z.unknown()).default({}),
  /** Also keep it in the daemon's storage, so `checkpoint.restore {checkpoint_id}` finds it from any session (default true). */
  persist: z.boolean().default(true),
});
export type CheckpointSaveParams = z.input<typeof CheckpointSaveParams>;

const CheckpointId = z.string().min(1).max(256);

/**
 * `checkpoint.restore` params: `{checkpoint_id}` (one the daemon stored), `{checkpoint}` or the
 * checkpoint object itself (reference §4.9 format). The id-only form takes nothing else, so a
 * malformed full checkpoint is refused rather than mistaken for a lookup.
 */
export const CheckpointRestoreParams = z.union([z.object({ checkpoint: CheckpointSchema }), CheckpointSchema, z.object({ checkpoint_id: CheckpointId }).strict()]);
export type CheckpointRestoreParams = z.input<typeof CheckpointRestoreParams>;

export const CheckpointIdParams = z.object({ checkpoint_id: CheckpointId });
export type CheckpointIdParams = z.input<typeof CheckpointIdParams>;

export type { Checkpoint, RestoreReport };

function needStorage(storage: Storage | undefined): Storage {
  if (!storage) throw new CarError("unsupported", "checkpoint", "this server has no storage for checkpoints; pass the full checkpoint to checkpoint.restore");
  return storage;
}

/**
 * `checkpoint.save|restore` (reference §4.9) plus `checkpoint.list|delete` (car-server additions).
 * Saved checkpoints live in the daemon-wide storage under `checkpoints/<id>`, so they outlive the
 * session and the daemon (unless it runs `--ephemeral`).
 */
export function checkpointMethods(storage: Storage | undefined): ServerMethodTable {
  return {
    "checkpoint.save": method(CheckpointSaveParams, async (p, { session }): Promise<Checkpoint> => {
      const cp = session.runtime.saveCheckpoint(p.metadata);
      if (p.persist && storage) await storeCheckpoint(storage, cp);
      return cp;
    }),
    "checkpoint.restore": method(CheckpointRestoreParams, async (p, { session }): Promise<RestoreReport> => {
      let cp: unknown;
      if ("checkpoint" in p) cp = p.checkpoint;
      else if ("state" in p) cp = p;
      else cp = await loadCheckpoint(needStorage(storage), p.checkpoint_id);
      return session.runtime.restoreCheckpoint(cp);
    }),
    "checkpoint.list": method(z.object({}), async (): Promise<{ checkpoints: string[] }> => ({ checkpoints: storage ? await listCheckpoints(storage) : [] })),
    "checkpoint.delete": method(CheckpointIdParams, async (p): Promise<{ deleted: boolean }> => ({
      deleted: storage ? await storage.delete(CHECKPOINT_PREFIX + p.checkpoint_id) : false,
    })),
  };
}
