/**
 * Errors of the fetch planner.
 * @module
 */

/** No source could provide the NAR (each source's failure is listed). */
export class NoSourceError extends Error {
  /** Per-source failure reasons, in the order tried. */
  readonly attempts: readonly string[];
  /** Creates the error for `storePath`. */
  constructor(storePath: string, attempts: readonly string[], why = "no source could provide it") {
    super(`${storePath}: ${why}${attempts.length ? ` (${attempts.join("; ")})` : ""}`);
    this.name = "NoSourceError";
    this.attempts = attempts;
  }
}

/** The bytes received do not hash to the signed NarHash. */
export class NarHashMismatchError extends Error {
  /** Creates the error naming both digests. */
  constructor(storePath: string, expected: string, actual: string) {
    super(`${storePath}: NAR hash mismatch: expected ${expected}, got ${actual}`);
    this.name = "NarHashMismatchError";
  }
}

/** A source broke its contract (more bytes than NarSize, ...). */
export class SourceFaultError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "SourceFaultError";
  }
}
