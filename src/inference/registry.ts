/** The model registry: which models exist, where their weights are, and which are loaded. */
import { CarError } from "../errors.ts";
import { parseWith } from "../ir/parse.ts";
import type { JsonValue } from "../ir/json.ts";
import type { Storage } from "../storage/storage.ts";
import { ModelSchema, type ModelSchemaInput, type UnifiedModelRow } from "./model-schemas.ts";
import type { LoadedModel } from "./backend.ts";

/** Key under which registered models persist (the reference's `models.json`). */
export const MODELS_STORAGE_KEY = "inference/models.json";

export class ModelRegistry {
  private readonly models = new Map<string, ModelSchema>();
  private readonly loaded = new Map<string, LoadedModel>();
  private readonly persisted = new Set<string>();

  constructor(private readonly storage?: Storage) {}

  /** Reads models registered in earlier runs from storage. */
  async restore(): Promise<number> {
    const raw = await this.storage?.get(MODELS_STORAGE_KEY);
    if (raw === undefined) return 0;
    const list = parseWith(ModelSchema.array(), raw, "persisted model registry", "inference", "corrupted");
    for (const m of list) {
      this.models.set(m.id, m);
      this.persisted.add(m.id);
    }
    return list.length;
  }

  /** Adds a model visible at once; with `persist` it is saved (trust tier forced to `community`). */
  async register(input: ModelSchemaInput | unknown, options: { persist?: boolean; trustTier?: ModelSchema["trust_tier"] } = {}): Promise<ModelSchema> {
    const parsed = parseWith(ModelSchema, input, "model", "inference");
    const model: ModelSchema = { ...parsed, trust_tier: options.trustTier ?? "community" };
    if (model.source.type === "local" && !model.source.path && !model.source.url) {
      throw new CarError("invalid_input", "inference", `model ${model.id}: a local source needs a path or a url`);
    }
    const old = this.loaded.get(model.id);
    if (old) {
      this.loaded.delete(model.id);
      await old.dispose();
    }
    this.models.set(model.id, model);
    if (options.persist ?? true) {
      this.persisted.add(model.id);
      await this.save();
    }
    return model;
  }

  /** Removes a model and frees its weights; returns whether it existed. */
  async remove(id: string): Promise<boolean> {
    const existed = this.models.delete(id);
    const lm = this.loaded.get(id);
    this.loaded.delete(id);
    if (lm) await lm.dispose();
    if (this.persisted.delete(id)) await this.save();
    return existed;
  }

  get(id: string): ModelSchema | undefined {
    return this.models.get(id);
  }

  /** The model or a `not_found` error naming the known ids. */
  require(id: string): ModelSchema {
    const m = this.models.get(id);
    if (!m) throw new CarError("not_found", "inference", `unknown model '${id}' (known: ${[...this.models.keys()].join(", ") || "none"})`);
    return m;
  }

  list(): ModelSchema[] {
    return [...this.models.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  loadedModel(id: string): LoadedModel | undefined {
    return this.loaded.get(id);
  }

  setLoaded(id: string, model: LoadedModel): void {
    this.loaded.set(id, model);
  }

  /** `models.list_unified` rows. */
  listUnified(isAvailable: (m: ModelSchema) => boolean): UnifiedModelRow[] {
    return this.list().map((m) => {
      const lm = this.loaded.get(m.id);
      const isLocal = m.source.type === "local";
      return {
        id: m.id,
        name: m.name,
        provider: m.provider,
        capabilities: m.capabilities,
        param_count: lm?.info.paramCount ?? m.param_count ?? null,
        size_mb: lm ? Math.round((lm.info.sizeBytes / 2 ** 20) * 10) / 10 : (m.size_mb ?? null),
        context_length: lm?.info.contextLength ?? m.context_length,
        available: isAvailable(m),
        is_local: isLocal,
        weights_ready: lm !== undefined,
        downloads_weights: isLocal && m.source.type === "local" && m.source.url !== undefined,
        max_output_tokens: m.max_output_tokens ?? null,
        public_benchmarks: [],
        cost: { input_per_mtok: m.cost?.input_per_mtok ?? null, output_per_mtok: m.cost?.output_per_mtok ?? null, pricing_tiers: [] },
      };
    });
  }

  /** Frees every loaded model. */
  async close(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    await Promise.all(all.map((m) => m.dispose()));
  }

  private async save(): Promise<void> {
    if (!this.storage) return;
    const list = [...this.persisted].map((id) => this.models.get(id)).filter((m): m is ModelSchema => m !== undefined);
    await this.storage.set(MODELS_STORAGE_KEY, JSON.parse(JSON.stringify(list)) as JsonValue);
  }
}
