/** Per-model outcome profiles that routing learns from (reference §9 "adaptive outcome-first scoring"). */
import type { ModelProfile } from "./model-schemas.ts";

/** Weight of the newest observation in the quality moving average. */
const EMA_ALPHA = 0.2;

export class ModelStats {
  private readonly profiles = new Map<string, ModelProfile>();

  /** Records one call's outcome. `quality` ∈ [0,1] defaults to 1 for success, 0 for failure. */
  record(modelId: string, ok: boolean, latencyMs: number, quality = ok ? 1 : 0): void {
    const p = this.get(modelId);
    const total = p.total_calls + 1;
    const success = p.success_count + (ok ? 1 : 0);
    this.profiles.set(modelId, {
      model_id: modelId,
      total_calls: total,
      success_count: success,
      fail_count: p.fail_count + (ok ? 0 : 1),
      success_rate: success / total,
      avg_latency_ms: p.avg_latency_ms + (latencyMs - p.avg_latency_ms) / total,
      ema_quality: p.total_calls === 0 ? quality : p.ema_quality + EMA_ALPHA * (quality - p.ema_quality),
    });
  }

  get(modelId: string): ModelProfile {
    return this.profiles.get(modelId) ?? { model_id: modelId, total_calls: 0, success_count: 0, fail_count: 0, success_rate: null, avg_latency_ms: 0, ema_quality: 0.5 };
  }

  all(): ModelProfile[] {
    return [...this.profiles.values()].sort((a, b) => a.model_id.localeCompare(b.model_id));
  }
}
