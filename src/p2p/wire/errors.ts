/**
 * Errors of the block-exchange wire protocol (docs/protocol.md §3).
 * @module
 */

/**
 * A frame or message that breaks docs/protocol.md §3.1–§3.3 (length, version,
 * type, body layout, bounds), or a message that cannot be encoded. The
 * receiver resets the stream. `offset` is the stream byte offset of the
 * offending field when decoding (0 = first byte the decoder received).
 *
 * @example
 * ```ts
 * import { WireError } from "./errors.ts";
 * const e = new WireError("unknown message type 9", 5);
 * [e.name, e.offset]; // ["WireError", 5]
 * ```
 */
export class WireError extends Error {
  /** Stream byte offset of the offending field, when decoding. */
  readonly offset: number | undefined;

  /** Creates the error; `message` says what was wrong and the offending value. */
  constructor(message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at stream byte ${offset})`);
    this.name = "WireError";
    this.offset = offset;
  }
}

/**
 * A `BLOCK` payload that does not decode to its announced raw length: corrupt
 * or truncated zstd data, a zip bomb, a length mismatch. The block is
 * discarded and requested elsewhere; the stream itself stays usable.
 *
 * @example
 * ```ts
 * import { BlockCodecError } from "./errors.ts";
 * new BlockCodecError("zstd data decodes to more than raw_length 262144").name; // "BlockCodecError"
 * ```
 */
export class BlockCodecError extends Error {
  /** Creates the error naming what was wrong and the offending value. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BlockCodecError";
  }
}
