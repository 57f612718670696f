/**
 * Errors of the substitute helper.
 * @module
 */

/** A request line from guix-daemon is malformed or names a path we refuse to touch. */
export class RequestError extends Error {
  /** Creates the error naming the line and the problem. */
  constructor(message: string) {
    super(message);
    this.name = "RequestError";
  }
}

/** No valid substitute: no server had an authorized narinfo for the path. */
export class NoSubstituteError extends Error {
  /** Creates the error naming the path. */
  constructor(message: string) {
    super(message);
    this.name = "NoSubstituteError";
  }
}

/** The NAR received does not hash to the signed NarHash (or has the wrong size). */
export class HashMismatchError extends Error {
  /** Expected nix32 digest. */
  readonly expected: string;
  /** Actual nix32 digest. */
  readonly actual: string;
  /** Creates the error. */
  constructor(storePath: string, expected: string, actual: string, detail = "") {
    super(
      `hash mismatch for ${storePath}: expected sha256:${expected}, got sha256:${actual}${detail}`,
    );
    this.name = "HashMismatchError";
    this.expected = expected;
    this.actual = actual;
  }
}

/** fd 4 is missing or not writable: the helper was not started by guix-daemon. */
export class ReplyChannelError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ReplyChannelError";
  }
}
