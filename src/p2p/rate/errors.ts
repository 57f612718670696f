/**
 * Errors of the rate limiters.
 *
 * @example
 * ```ts
 * import { RateLimitError } from "./errors.ts";
 * new RateLimitError("FairRateLimiter: bytesPerSecond must be >= 0, got -1").name; // "RateLimitError"
 * ```
 * @module
 */

/** Invalid limiter option or call (the message names the value), or a limiter closed while waiting. */
export class RateLimitError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "RateLimitError";
  }
}
