import type { VerifyIssue, VerifySeverity, VerifyTier } from "../types.ts";

/** One check's findings plus what it covered (becomes one `evidence.checks` entry). */
export interface CheckOutcome {
  name: string;
  ran: boolean;
  verifies: string;
  cannot_verify: string[];
  tier: VerifyTier;
  /** Issues with the index of their action (-1 for proposal-wide), for ordering. */
  issues: Array<{ index: number; issue: VerifyIssue }>;
  /** 0–1: how much of what the check could look at it decided. */
  coverage: number;
}

/** A fresh outcome for a check. */
export function outcome(name: string, tier: VerifyTier, verifies: string, ran = true): CheckOutcome {
  return { name, ran, verifies, cannot_verify: [], tier, issues: [], coverage: ran ? 1 : 0 };
}

/** Records a finding on `o`. `index` -1 (and `actionId` null) for proposal-wide findings. */
export function report(o: CheckOutcome, index: number, actionId: string | null, severity: VerifySeverity, message: string): void {
  o.issues.push({ index, issue: { action_id: actionId, severity, message, tier: o.tier, check: o.name } });
}

/** At most `max` names, then "… and N more" — keeps evidence small on huge proposals. */
export function listSome(names: readonly string[], max = 10): string {
  const head = names.slice(0, max).join(", ");
  return names.length > max ? `${head} … and ${names.length - max} more` : head;
}
