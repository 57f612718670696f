/**
 * The compression names narinfos use (`Compression:` field).
 *
 * @example
 * ```ts
 * import { parseCompression } from "./compression.ts";
 * parseCompression("lzip"); // "lzip"
 * ```
 * @module
 */
import { UnsupportedCompressionError } from "./errors.ts";

/** A NAR compression as written in a narinfo's `Compression` field. */
export type Compression = "none" | "gzip" | "zstd" | "xz" | "lzip" | "bzip2";

/**
 * Every compression, in the order {@linkcode supportedCompressions} lists them.
 *
 * @example
 * ```ts
 * import { COMPRESSIONS } from "./compression.ts";
 * COMPRESSIONS.includes("zstd"); // true
 * ```
 */
export const COMPRESSIONS: readonly Compression[] = [
  "none",
  "gzip",
  "zstd",
  "xz",
  "lzip",
  "bzip2",
];

/**
 * Parses a narinfo `Compression` value (exact, lower case, as Guix and Nix
 * write them).
 *
 * Nix writes no `Compression` field for its default, bzip2: the narinfo
 * parser supplies that default, not this function.
 *
 * @throws {UnsupportedCompressionError} naming the value when it is unknown.
 *
 * @example
 * ```ts
 * import { parseCompression } from "./compression.ts";
 * parseCompression("zstd"); // "zstd"
 * // parseCompression("brotli") throws UnsupportedCompressionError
 * ```
 */
export function parseCompression(text: string): Compression {
  if ((COMPRESSIONS as readonly string[]).includes(text)) return text as Compression;
  throw new UnsupportedCompressionError(
    text,
    `not one of ${COMPRESSIONS.join(", ")} (narinfo Compression field)`,
  );
}
