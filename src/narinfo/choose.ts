/**
 * Choosing the nar download among a narinfo's entries, as Guix's
 * `narinfo-preferred-uris` / `narinfo-best-uri` do (../shared/docs/guix-substitute-protocol.md
 * §4.3): unsupported or missing compressions are dropped; by default the
 * smallest known `FileSize` wins (an entry with a known size before one
 * without; between two unknown sizes, the better compressor); in "prefer fast
 * decompression" mode `none` and `zstd` come first and `gzip` beats `lzip`,
 * sizes breaking ties.
 *
 * @example
 * ```ts
 * import { chooseNarinfoEntry } from "./choose.ts";
 * const entries = [
 *   { url: "nar/lzip/x", compression: "lzip", fileSize: 50 },
 *   { url: "nar/zstd/x", compression: "zstd", fileSize: 60 },
 * ];
 * chooseNarinfoEntry(entries, { supportedCompressions: ["lzip", "zstd"] })?.url; // "nar/lzip/x"
 * chooseNarinfoEntry(entries, {
 *   supportedCompressions: ["lzip", "zstd"],
 *   preferFastDecompression: true,
 * })?.url; // "nar/zstd/x"
 * ```
 * @module
 */
import type { NarinfoEntry } from "./narinfo.ts";

/** Every compression Guix and Nix narinfos use. */
export const KNOWN_COMPRESSIONS: readonly string[] = [
  "none",
  "gzip",
  "lzip",
  "zstd",
  "xz",
  "bzip2",
];

/** Options of {@linkcode chooseNarinfoEntry}. */
export interface ChooseEntryOptions {
  /** The compressions the caller can decompress (`none` included if wanted). */
  supportedCompressions: readonly string[];
  /** Prefer `none`/`zstd`, then `gzip` over `lzip`, before looking at sizes. Default false. */
  preferFastDecompression?: boolean;
}

/** True when compression `a` generally compresses better than `b`. */
function compressesBetter(a: string, b: string): boolean {
  if (a === b) return false;
  switch (a) {
    case "lzip":
      return true;
    case "xz":
    case "bzip2":
    case "zstd":
      return b === "gzip" || b === "none";
    case "gzip":
      return b === "none";
    default:
      return false;
  }
}

/** True when compression `a` generally decompresses faster than `b`. */
function decompressesFaster(a: string, b: string): boolean {
  const fast = (c: string) => c === "none" || c === "zstd";
  if (fast(a)) return !fast(b);
  return a === "gzip" && b === "lzip";
}

type Usable = NarinfoEntry & { compression: string };

function sizeFirst(a: Usable, b: Usable): boolean {
  if (a.fileSize !== undefined) return b.fileSize === undefined || a.fileSize < b.fileSize;
  if (b.fileSize !== undefined) return false;
  return compressesBetter(a.compression, b.compression);
}

function speedFirst(a: Usable, b: Usable): boolean {
  if (decompressesFaster(a.compression, b.compression)) return true;
  if (decompressesFaster(b.compression, a.compression)) return false;
  return sizeFirst(a, b);
}

/**
 * The usable entries, best first (a stable sort: equal entries keep file order).
 *
 * @example
 * ```ts
 * import { preferredNarinfoEntries } from "./choose.ts";
 * preferredNarinfoEntries([{ url: "a", compression: "br" }], { supportedCompressions: ["none"] });
 * // []
 * ```
 */
export function preferredNarinfoEntries(
  entries: readonly NarinfoEntry[],
  options: ChooseEntryOptions,
): NarinfoEntry[] {
  const supported = new Set(options.supportedCompressions);
  const usable = entries.filter((e): e is Usable =>
    e.compression !== undefined && supported.has(e.compression)
  );
  const first = options.preferFastDecompression ? speedFirst : sizeFirst;
  return usable.sort((a, b) => (first(a, b) ? -1 : first(b, a) ? 1 : 0));
}

/**
 * The best entry, or `undefined` when none is usable ("no usable URL").
 *
 * @example
 * ```ts
 * import { chooseNarinfoEntry } from "./choose.ts";
 * chooseNarinfoEntry([{ url: "nar/x" }], { supportedCompressions: ["none"] }); // undefined: no Compression
 * ```
 */
export function chooseNarinfoEntry(
  entries: readonly NarinfoEntry[],
  options: ChooseEntryOptions,
): NarinfoEntry | undefined {
  return preferredNarinfoEntries(entries, options)[0];
}

/**
 * Resolves an entry's URL against the cache URL as Guix does: absolute URLs
 * are used as is; relative ones are appended to the cache URL with one `/`
 * between them (plain concatenation, no `..` processing).
 *
 * @example
 * ```ts
 * import { resolveNarUrl } from "./choose.ts";
 * resolveNarUrl("https://bordeaux.guix.gnu.org", "nar/lzip/x"); // "https://bordeaux.guix.gnu.org/nar/lzip/x"
 * resolveNarUrl("https://a.example/", "http://b.example/nar/x"); // "http://b.example/nar/x"
 * ```
 */
export function resolveNarUrl(cacheUrl: string, url: string): string {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(url)) return url;
  return cacheUrl.endsWith("/") ? cacheUrl + url : `${cacheUrl}/${url}`;
}
