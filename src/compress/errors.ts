/**
 * Errors of the decompressors.
 *
 * @example
 * ```ts
 * import { DecompressionError, OutputLimitError } from "./errors.ts";
 * try {
 *   throw new DecompressionError("lzip", "member CRC32 mismatch", { offset: 1234 });
 * } catch (e) {
 *   if (e instanceof DecompressionError) console.log(e.format, e.offset);
 *   if (e instanceof OutputLimitError) console.log(e.limit);
 * }
 * ```
 * @module
 */

/** Where and why a {@linkcode DecompressionError} happened. */
export interface DecompressionErrorDetails {
  /** Byte offset in the compressed input where the problem was found, when known. */
  offset?: number;
  /** The underlying error (a zlib error, a process exit...). */
  cause?: unknown;
}

/**
 * The compressed data is broken or hostile (bad header, checksum mismatch,
 * truncation, trailing garbage...), or the decompressing engine failed. The
 * message names the format, the compressed offset when known, and the offending
 * value.
 *
 * @example
 * ```ts
 * import { DecompressionError } from "./errors.ts";
 * new DecompressionError("xz", "index CRC32 mismatch", { offset: 4096 }).message;
 * // "xz decompression failed at compressed offset 4096: index CRC32 mismatch"
 * ```
 */
export class DecompressionError extends Error {
  /** The compression format being decoded (`"lzip"`, `"zstd"`...). */
  readonly format: string;
  /** Byte offset in the compressed input, when known. */
  readonly offset: number | undefined;

  /** Creates the error; `detail` says what was wrong and shows the offending value. */
  constructor(format: string, detail: string, details: DecompressionErrorDetails = {}) {
    const where = details.offset === undefined ? "" : ` at compressed offset ${details.offset}`;
    super(
      `${format} decompression failed${where}: ${detail}`,
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.name = "DecompressionError";
    this.format = format;
    this.offset = details.offset;
  }
}

/**
 * More (or, for an exact limit, fewer) bytes came out than allowed: a zip bomb,
 * or a NAR whose size does not match the narinfo's `NarSize`.
 *
 * @example
 * ```ts
 * import { OutputLimitError } from "./errors.ts";
 * new OutputLimitError(1064, 1065).message;
 * // "output exceeds the limit of 1064 bytes (at least 1065 bytes)"
 * ```
 */
export class OutputLimitError extends Error {
  /** The limit in bytes. */
  readonly limit: number;
  /** Bytes seen when the error was raised (for "too many": at least `limit + 1`). */
  readonly actual: number;

  /** Creates the error; `exact` says the limit was an exact size that was not reached. */
  constructor(limit: number, actual: number, exact = false) {
    super(
      exact && actual < limit
        ? `output ended after ${actual} bytes, expected exactly ${limit} bytes`
        : `output exceeds the limit of ${limit} bytes (at least ${actual} bytes)`,
    );
    this.name = "OutputLimitError";
    this.limit = limit;
    this.actual = actual;
  }
}

/**
 * A `Compression` value is unknown, or the requested format or engine cannot
 * run on this machine (no `bzip2` binary on `PATH`, no built-in decoder...).
 *
 * @example
 * ```ts
 * import { UnsupportedCompressionError } from "./errors.ts";
 * new UnsupportedCompressionError("brotli", "unknown compression").compression; // "brotli"
 * ```
 */
export class UnsupportedCompressionError extends Error {
  /** The offending compression name. */
  readonly compression: string;

  /** Creates the error; `detail` says why `compression` cannot be used. */
  constructor(compression: string, detail: string) {
    super(`unsupported compression ${JSON.stringify(compression)}: ${detail}`);
    this.name = "UnsupportedCompressionError";
    this.compression = compression;
  }
}
