/**
 * Errors of narinfo parsing and serialization.
 *
 * @example
 * ```ts
 * import { NarinfoError } from "./errors.ts";
 * const e = new NarinfoError('not a non-negative integer: "12x"', { line: 3, field: "NarSize" });
 * e.message; // 'narinfo line 3: NarSize: not a non-negative integer: "12x"'
 * ```
 * @module
 */

/** Where a {@linkcode NarinfoError} was found. */
export interface NarinfoLocation {
  /** 1-based line number, when the problem is on a line. */
  line?: number | undefined;
  /** The field concerned, when there is one. */
  field?: string | undefined;
}

/** A narinfo is malformed: an unparseable line, a missing or invalid field. */
export class NarinfoError extends Error {
  /** 1-based line number of the offending line, if any. */
  readonly line: number | undefined;
  /** Name of the offending field, if any. */
  readonly field: string | undefined;

  /** Creates the error; `detail` says what is wrong and quotes the offending value. */
  constructor(detail: string, where: NarinfoLocation = {}) {
    const place = where.line === undefined ? "narinfo" : `narinfo line ${where.line}`;
    super(`${place}: ${where.field === undefined ? "" : `${where.field}: `}${detail}`);
    this.name = "NarinfoError";
    this.line = where.line;
    this.field = where.field;
  }
}
