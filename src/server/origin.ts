/** Lower-cases an origin and drops a trailing slash, so allow-list entries compare loosely. */
function normalize(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, "");
}

/**
 * Whether a request's `Origin` may reach the daemon. Browsers always send `Origin` on WebSocket
 * upgrades and cross-site fetches, and WebSocket upgrades are not subject to CORS, so a page on any
 * site could otherwise drive a local daemon. Programs (CLI clients, SDKs) send no `Origin` and pass.
 * `"*"` in the allow-list admits every origin; `"null"` must be listed to admit opaque origins.
 */
export function originAllowed(origin: string | undefined | null, allowList: readonly string[]): boolean {
  if (origin === undefined || origin === null) return true;
  if (allowList.includes("*")) return true;
  const o = normalize(origin);
  return allowList.some((a) => normalize(a) === o);
}
