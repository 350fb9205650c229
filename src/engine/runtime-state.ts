import { jsonEqual } from "./canonical-json.ts";
import type { StateSnapshot, StateStore } from "./state-store.ts";

/** Records a direct state change: `changes` set, `deleted` removed; `source` says who (direct, checkpoint, replan). */
export type StateChangeSink = (changes: Record<string, unknown>, deleted: string[] | undefined, source: string) => void;

/** The public face of a runtime's state store: every write is logged. */
export class RuntimeState {
  constructor(
    private readonly store: StateStore,
    private readonly onChange: StateChangeSink,
    /** Refuses values before they are stored (a durable runtime's journal takes JSON only). */
    private readonly check?: (values: Record<string, unknown>) => void,
  ) {}

  /** The value at `key`, or `null` when absent. */
  get(key: string): unknown {
    return this.store.get(key);
  }

  set(key: string, value: unknown): void {
    this.check?.({ [key]: value });
    this.store.set(key, value);
    this.onChange({ [key]: value === undefined ? null : value }, undefined, "direct");
  }

  /** Sets several keys at once (one event). */
  merge(values: StateSnapshot): void {
    if (Object.keys(values).length === 0) return;
    this.check?.(values);
    for (const [k, v] of Object.entries(values)) this.store.set(k, v);
    this.onChange({ ...values }, undefined, "direct");
  }

  exists(key: string): boolean {
    return this.store.exists(key);
  }

  /** Removes a key; returns whether it existed. Logged with `deleted: [key]`. */
  delete(key: string): boolean {
    const existed = this.store.delete(key);
    if (existed) this.onChange({}, [key], "direct");
    return existed;
  }

  keys(): string[] {
    return this.store.keys();
  }

  snapshot(): StateSnapshot {
    return this.store.snapshot();
  }

  /** Replaces the whole state with `snap`, logging only the difference (one event, none if equal). */
  replace(snap: StateSnapshot, source: string): void {
    this.check?.(snap);
    const current = this.store.snapshot();
    const changes: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(snap)) if (!Object.hasOwn(current, k) || !jsonEqual(current[k], v)) changes[k] = v;
    const deleted = Object.keys(current).filter((k) => !Object.hasOwn(snap, k));
    this.store.restore(snap);
    if (Object.keys(changes).length > 0 || deleted.length > 0) this.onChange(changes, deleted.length ? deleted : undefined, source);
  }
}
