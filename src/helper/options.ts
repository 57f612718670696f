/**
 * guix-daemon's `_NIX_OPTIONS` (../shared/docs/guix-substitute-protocol.md §1.3): `name=value`
 * entries separated by newlines; an `untrusted-` entry (set by an unprivileged
 * client) wins over the plain one, as in Guix.
 *
 * @example
 * ```ts
 * import { daemonOptions } from "./options.ts";
 * const o = daemonOptions("substitute-urls=https://a https://b\nuntrusted-print-extended-build-trace=1\ndeduplicate=yes");
 * o.substituteUrls;  // ["https://a", "https://b"]
 * o.buildTrace;      // true
 * ```
 * @module
 */

/** What the helper takes from `_NIX_OPTIONS`. */
export interface DaemonOptions {
  /** All entries, in order. */
  raw: Map<string, string>;
  /** Substitute URLs (untrusted-substitute-urls, else substitute-urls), deduplicated; undefined when neither is set. */
  substituteUrls: string[] | undefined;
  /** True when the URLs came from an unprivileged client (`untrusted-substitute-urls`). */
  urlsFromClient: boolean;
  /** Emit `@ download-*` trace lines instead of a progress bar. */
  buildTrace: boolean;
  /** Deduplicate into `<store>/.links` (Guix tests presence only; we honour `no`). */
  deduplicate: boolean;
  /** Terminal width for the progress bar. */
  terminalColumns: number;
  /** guix-daemon's build-use-substitutes. */
  useSubstitutes: boolean;
}

/** Parses `_NIX_OPTIONS` text (undefined when not run by guix-daemon). */
export function daemonOptions(text: string | undefined): DaemonOptions {
  const raw = new Map<string, string>();
  for (const piece of (text ?? "").split("\n")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    if (eq < 0) continue;
    raw.set(piece.slice(0, eq), piece.slice(eq + 1));
  }
  const pick = (name: string) => raw.get(`untrusted-${name}`) ?? raw.get(name);
  const urlsText = raw.get("untrusted-substitute-urls") ?? raw.get("substitute-urls");
  const urls = urlsText === undefined
    ? undefined
    : [...new Set(urlsText.split(/\s+/).filter((u) => u !== "").map((u) => u.replace(/\/+$/, "")))];
  const trace = Number(pick("print-extended-build-trace") ?? "0");
  const columns = Number(pick("terminal-columns") ?? "80");
  const dedup = raw.get("deduplicate");
  return {
    raw,
    substituteUrls: urls,
    urlsFromClient: raw.has("untrusted-substitute-urls"),
    buildTrace: Number.isFinite(trace) && trace > 0,
    deduplicate: dedup !== undefined && dedup !== "no" && dedup !== "false",
    terminalColumns: Number.isFinite(columns) && columns > 0 ? Math.max(20, columns - 1) : 80,
    useSubstitutes: raw.get("build-use-substitutes") !== "false",
  };
}
