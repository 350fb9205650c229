import { messageOf } from "../../errors.ts";
import type { Session } from "../context.ts";

/** One policy file the daemon loaded at start (`--policy`, `$CAR_HOME/policies`): its name and text. */
export interface PolicySource {
  /** The path it was read from; the session lists it as `file:<source>`. */
  source: string;
  text: string;
}

const KEY = "governance:daemon-policies";

/** Names (`file:<source>`) of the daemon's policies in this session, which clients may not unregister. */
export function daemonPolicyNames(session: Session): ReadonlySet<string> {
  return (session.data.get(KEY) as Set<string> | undefined) ?? new Set();
}

/**
 * Loads the daemon's policy files into a new session's global layer, each session getting its own
 * rule instances (so `rate_limit_tool` windows are per connection, as in the reference). The texts
 * were validated when the daemon started; should one still fail here, the session fails closed:
 * every proposal it submits is rejected.
 */
export function applyDaemonPolicies(session: Session, sources: readonly PolicySource[]): void {
  const names = new Set<string>();
  session.data.set(KEY, names);
  try {
    for (const s of sources) names.add(session.runtime.policies.loadFile(s.text, { source: s.source }).registered);
  } catch (err) {
    const reason = `the daemon's policy files could not be loaded into this session: ${messageOf(err)}`;
    session.runtime.addAdmissionGuard({ admit: () => [{ source: "policy", name: "daemon_policies", reason }] });
  }
}
