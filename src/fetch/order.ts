/**
 * Download order of a narinfo's entries for a `compression_preference`
 * (pure; shared by the daemon's HTTP sources and the helper's `info` replies).
 *
 * @example
 * ```ts
 * import { orderEntries } from "./order.ts";
 * orderEntries(narinfo.entries, ["none", "zstd", "lzip"], "auto")[0]?.url;
 * ```
 * @module
 */
import { type NarinfoEntry, preferredNarinfoEntries } from "../narinfo/mod.ts";

/** Entries in download order: `smallest` download, `fastest` decompression, or `auto` (fast unless > 1.5x the smallest). */
export function orderEntries(
  entries: readonly NarinfoEntry[],
  supported: readonly string[],
  preference: "auto" | "smallest" | "fastest",
): NarinfoEntry[] {
  const smallest = preferredNarinfoEntries(entries, { supportedCompressions: supported });
  if (preference === "smallest") return smallest;
  const fastest = preferredNarinfoEntries(entries, {
    supportedCompressions: supported,
    preferFastDecompression: true,
  });
  if (preference === "fastest") return fastest;
  const [best, fast] = [smallest[0], fastest[0]];
  if (!best || !fast || fast === best) return smallest;
  if (fast.fileSize === undefined || best.fileSize === undefined) return fastest;
  return fast.fileSize <= best.fileSize * 1.5 ? fastest : smallest;
}
