/**
 * Which substitute URLs a control request may make the daemon use. A request
 * comes from the helper (which may pass URLs an unprivileged `guix build`
 * chose) or from anyone in the control socket's group, so its URLs are not
 * trusted: http(s) URLs are used (every narinfo must still be signed by a key
 * in the ACL), `file://` URLs only when the daemon's own configuration lists
 * them (`substitute_urls`, `nix_upstream_urls`) — a client-chosen `file://`
 * cache would make the daemon read files with its own rights (docs/security.md).
 *
 * @example
 * ```ts
 * requestUrls(["file:///tmp/x", "https://ci.guix.gnu.org"], { substitute_urls: [], nix_upstream_urls: [] });
 * // → { urls: ["https://ci.guix.gnu.org"], refused: ["file:///tmp/x"] }
 * ```
 * @module
 */
import type { Config } from "../config/schema.ts";

/** The URLs to use for a request, and those refused. */
export function requestUrls(
  requested: readonly string[] | undefined,
  config: Pick<Config, "substitute_urls" | "nix_upstream_urls">,
): { urls: string[]; refused: string[] } {
  if (!requested || requested.length === 0) return { urls: config.substitute_urls, refused: [] };
  const configured = new Set(
    [...config.substitute_urls, ...config.nix_upstream_urls].map((u) => u.replace(/\/+$/, "")),
  );
  const urls: string[] = [];
  const refused: string[] = [];
  for (const url of requested) {
    const ok = /^https?:\/\//i.test(url) || configured.has(url.replace(/\/+$/, ""));
    (ok ? urls : refused).push(url);
  }
  return { urls, refused };
}
