/**
 * One narinfo request to one server, as a cache entry: 200 → found (TTL from
 * `Cache-Control: max-age` or `narinfo_ttl`), 404/410/202 → missing
 * (`narinfo_negative_ttl`), anything else or no answer → error
 * (`narinfo_error_ttl`). At most 1 MiB is read.
 *
 * @example
 * ```ts
 * import { fetchNarinfo } from "./_fetch_narinfo.ts";
 * declare const settings: import("./resolver.ts").ResolverSettings;
 * const entry = await fetchNarinfo("https://ci.guix.gnu.org", "0ad3jr1jlg1p2sfxbqcyvgmr3bf5mcrc", settings, Date.now() / 1000, undefined);
 * ```
 * @module
 */
import { httpGetSmall } from "./client.ts";
import { HttpNetworkError, HttpTimeoutError } from "./errors.ts";
import type { CacheEntry } from "./narinfo_cache.ts";
import type { ResolverSettings } from "./resolver.ts";

/** Fetches `<url>/<hashPart>.narinfo`; rethrows only when `signal` aborted it. */
export async function fetchNarinfo(
  url: string,
  hashPart: string,
  s: ResolverSettings,
  fetchedAt: number,
  signal: AbortSignal | undefined,
): Promise<CacheEntry> {
  const target = `${url}/${hashPart}.narinfo`;
  try {
    const res = await httpGetSmall(target, {
      headerTimeoutMs: s.connectTimeout * 1000,
      stallTimeoutMs: s.stallTimeout * 1000,
      signal,
      maxBytes: 1024 * 1024,
    });
    const maxAge = parseMaxAge(res.headers.get("cache-control"));
    if (res.status === 200) {
      return { kind: "found", text: res.text ?? "", fetchedAt, ttl: maxAge ?? s.narinfoTtl };
    }
    if (res.status === 404 || res.status === 410 || res.status === 202) {
      return { kind: "missing", fetchedAt, ttl: maxAge ?? s.negativeTtl };
    }
    return { kind: "error", message: `HTTP ${res.status}`, fetchedAt, ttl: s.errorTtl };
  } catch (e) {
    if (signal?.aborted) throw e;
    if (e instanceof HttpNetworkError || e instanceof HttpTimeoutError) {
      return { kind: "error", message: e.message, fetchedAt, ttl: s.errorTtl };
    }
    throw e;
  }
}

function parseMaxAge(header: string | null): number | undefined {
  const m = header ? /(?:^|,)\s*max-age=(\d+)/i.exec(header) : null;
  return m ? Number(m[1]) : undefined;
}
