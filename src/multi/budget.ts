import type { AgentOutput, BudgetLimits, BudgetUsage } from "./schemas.ts";

/**
 * Sums what the agents of one pattern run report and refuses new starts once any limit is
 * reached (a sum equal to its limit counts as reached). Agents already running finish.
 */
export class BudgetTracker {
  private readonly limits: BudgetLimits;
  private readonly used: BudgetUsage = { agents_started: 0, agents_denied: 0, input_tokens: 0, output_tokens: 0, total_tokens: 0, cost_usd: 0 };

  constructor(limits: BudgetLimits = {}) {
    this.limits = limits;
  }

  /** Admits one more agent (counting it as started), or returns why not (counting it as denied). */
  admit(): string | undefined {
    const reason = this.exceeded();
    if (reason) this.used.agents_denied++;
    else this.used.agents_started++;
    return reason;
  }

  /** Adds an output's reported tokens and cost. */
  record(output: AgentOutput): void {
    const t = output.tokens;
    if (typeof t === "number") {
      this.used.total_tokens += t;
    } else if (t) {
      this.used.input_tokens += t.input_tokens;
      this.used.output_tokens += t.output_tokens;
      this.used.total_tokens += t.total_tokens ?? t.input_tokens + t.output_tokens;
    }
    this.used.cost_usd += output.cost_usd ?? 0;
  }

  /** A copy of the running totals. */
  usage(): BudgetUsage {
    return { ...this.used };
  }

  private exceeded(): string | undefined {
    const l = this.limits;
    const u = this.used;
    if (l.max_agents !== undefined && u.agents_started >= l.max_agents) return `budget exceeded: max_agents ${l.max_agents} reached`;
    if (l.max_input_tokens !== undefined && u.input_tokens >= l.max_input_tokens) return `budget exceeded: max_input_tokens ${l.max_input_tokens} reached (${u.input_tokens} used)`;
    if (l.max_output_tokens !== undefined && u.output_tokens >= l.max_output_tokens) return `budget exceeded: max_output_tokens ${l.max_output_tokens} reached (${u.output_tokens} used)`;
    if (l.max_total_tokens !== undefined && u.total_tokens >= l.max_total_tokens) return `budget exceeded: max_total_tokens ${l.max_total_tokens} reached (${u.total_tokens} used)`;
    if (l.max_cost_usd !== undefined && u.cost_usd >= l.max_cost_usd) return `budget exceeded: max_cost_usd ${l.max_cost_usd} reached (${u.cost_usd} used)`;
    return undefined;
  }
}
