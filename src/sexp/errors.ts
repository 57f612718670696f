/**
 * Errors of s-expression parsing.
 *
 * @example
 * ```ts
 * import { SexpError } from "./errors.ts";
 * const e = new SexpError("expected ')'", 12);
 * e.offset; // 12
 * e.message; // "s-expression: byte 12: expected ')'"
 * ```
 * @module
 */

/** The input is not a well-formed libgcrypt s-expression; `offset` is the offending byte. */
export class SexpError extends Error {
  /** Byte offset in the input where the problem was found. */
  readonly offset: number;

  /** Creates the error; `detail` says what was expected and what was found. */
  constructor(detail: string, offset: number) {
    super(`s-expression: byte ${offset}: ${detail}`);
    this.name = "SexpError";
    this.offset = offset;
  }
}
