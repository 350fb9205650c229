import type { Event } from "../ir/event.ts";

/** Success/failure counts of one tool. */
export interface ToolStats {
  succeeded: number;
  failed: number;
}

/** Options of `ToolFeedback.fromEvents`. */
export interface FeedbackFromEventsOptions {
  /** Count skipped actions as failures of their tool, as the reference planner does (default true). */
  countSkipped?: boolean;
}

/**
 * Per-tool outcome history for the planner. The rate is Laplace-smoothed, (succeeded + 1) /
 * (succeeded + failed + 2), so a tool never seen rates 0.5 and one success is not certainty.
 */
export class ToolFeedback {
  private readonly stats = new Map<string, ToolStats>();
  private readonly fixed = new Map<string, number>();

  /** Records `n` outcomes of `tool`. */
  record(tool: string, success: boolean, n = 1): this {
    const s = this.stats.get(tool) ?? { succeeded: 0, failed: 0 };
    if (success) s.succeeded += n;
    else s.failed += n;
    this.stats.set(tool, s);
    return this;
  }

  /** Smoothed success rate of `tool` (0.5 when never seen). */
  rate(tool: string): number {
    const f = this.fixed.get(tool);
    if (f !== undefined) return f;
    const s = this.stats.get(tool);
    return s ? (s.succeeded + 1) / (s.succeeded + s.failed + 2) : 0.5;
  }

  /** Raw counts of `tool`, if any. */
  statsOf(tool: string): ToolStats | undefined {
    const s = this.stats.get(tool);
    return s ? { ...s } : undefined;
  }

  /** Tools with recorded outcomes, sorted. */
  tools(): string[] {
    return [...new Set([...this.stats.keys(), ...this.fixed.keys()])].sort();
  }

  toJSON(): Record<string, ToolStats & { rate: number }> {
    const out: Record<string, ToolStats & { rate: number }> = {};
    for (const t of this.tools()) out[t] = { ...(this.stats.get(t) ?? { succeeded: 0, failed: 0 }), rate: this.rate(t) };
    return out;
  }

  /**
   * Feedback from a runtime's event log (any order): each tool_call action's terminal event
   * counts once — `action_succeeded` as a success; `action_failed`, `action_rejected` and (by
   * default) `action_skipped` as failures.
   */
  static fromEvents(events: Iterable<Event>, options: FeedbackFromEventsOptions = {}): ToolFeedback {
    const countSkipped = options.countSkipped ?? true;
    const list = [...events];
    const toolOf = new Map<string, string>();
    for (const e of list) {
      if (e.kind !== "proposal_received" || !e.proposal_id) continue;
      const actions = (e.data["proposal"] as { actions?: unknown } | undefined)?.actions;
      if (!Array.isArray(actions)) continue;
      for (const a of actions as Array<Record<string, unknown>>) {
        if (a["type"] === "tool_call" && typeof a["id"] === "string" && typeof a["tool"] === "string") toolOf.set(`${e.proposal_id}\u0000${a["id"]}`, a["tool"]);
      }
    }
    const fb = new ToolFeedback();
    for (const e of list) {
      const ok = e.kind === "action_succeeded";
      if (!ok && e.kind !== "action_failed" && e.kind !== "action_rejected" && !(countSkipped && e.kind === "action_skipped")) continue;
      const tool = toolOf.get(`${e.proposal_id}\u0000${e.action_id}`);
      if (tool !== undefined) fb.record(tool, ok);
    }
    return fb;
  }

  /** Fixes the rate of `tool` (overrides recorded outcomes). */
  setRate(tool: string, rate: number): this {
    this.fixed.set(tool, Math.min(1, Math.max(0, rate)));
    return this;
  }

  /** Feedback from known rates, e.g. `{ search: 0.9 }`. */
  static fromRates(rates: Readonly<Record<string, number>>): ToolFeedback {
    const fb = new ToolFeedback();
    for (const [tool, r] of Object.entries(rates)) fb.setRate(tool, r);
    return fb;
  }
}
