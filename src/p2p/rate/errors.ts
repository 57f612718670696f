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

/**
 * Invalid limiter option or call (the message names the value), or a limiter
 * closed while waiting.
 *
 * @example
 * ```ts
 * import { FairRateLimiter } from "./fair.ts";
 * import { RateLimitError } from "./errors.ts";
 * const limiter = new FairRateLimiter({ bytesPerSecond: 1000 });
 * limiter.close();
 * await limiter.acquire("peer", 1).catch((e) => e instanceof RateLimitError); // true
 * ```
 */
export class RateLimitError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "RateLimitError";
  }
}
