/**
 * Request checks and response headers of the dashboard. The dashboard is
 * read-only and unauthenticated, so it only answers requests that cannot come
 * from a hostile web page:
 *
 * - the `Host` header must be an IP literal or `localhost` (a DNS-rebinding
 *   page sends its own domain name); on a loopback bind only loopback
 *   literals (`127.0.0.0/8`, `[::1]`) and `localhost` are accepted;
 * - `Sec-Fetch-Site` (sent by browsers) must be `same-origin` or `none` (a
 *   typed URL), except for a top-level navigation to the page itself: another
 *   site (even another port of localhost) can neither read the API nor open
 *   event streams;
 * - only `GET`.
 *
 * Responses carry a strict Content-Security-Policy (scripts, styles and
 * connections from the dashboard itself only; no inline script), no framing,
 * no referrer, no MIME sniffing.
 *
 * @example
 * ```ts
 * import { hostAllowed } from "./security.ts";
 * hostAllowed("localhost:6880", { loopbackOnly: true }); // true
 * hostAllowed("evil.example:6880", { loopbackOnly: true }); // false
 * ```
 * @module
 */

/** The Content-Security-Policy of every dashboard response. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers on every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The host name of a `Host` header value (without port; IPv6 keeps its brackets). */
export function hostName(host: string): string {
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(":");
  return colon < 0 ? host : host.slice(0, colon);
}

function isIpv6Literal(name: string): boolean {
  if (!/^\[[0-9a-fA-F:.]+\]$/.test(name)) return false;
  try {
    new URL(`http://${name}/`);
    return true;
  } catch {
    return false;
  }
}

/** Whether a `Host` header value is acceptable (see the module documentation). */
export function hostAllowed(host: string | null, options: { loopbackOnly: boolean }): boolean {
  if (!host) return false;
  const name = hostName(host.trim()).toLowerCase();
  const port = host.trim().slice(name.length);
  if (port !== "" && !/^:\d{1,5}$/.test(port)) return false;
  if (name === "localhost") return true;
  if (options.loopbackOnly) {
    return (IPV4.test(name) && name.startsWith("127.")) || name === "[::1]" ||
      (isIpv6Literal(name) && new URL(`http://${name}/`).hostname === "[::1]");
  }
  return IPV4.test(name) || isIpv6Literal(name);
}

/** Whether the fetch metadata of `req` allows it (cross-site only for navigations to `/`). */
export function fetchSiteAllowed(req: Request, path: string): boolean {
  const site = req.headers.get("sec-fetch-site");
  if (site === null || site === "same-origin" || site === "none") return true;
  return path === "/" && req.headers.get("sec-fetch-mode") === "navigate" &&
    req.headers.get("sec-fetch-dest") === "document";
}
