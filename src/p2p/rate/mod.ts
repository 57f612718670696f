/**
 * Rate limiters with an injected clock: a token bucket, and a fair limiter
 * shared by many peers (byte-weighted round-robin), used for
 * `max_upload_rate` and `max_download_rate`.
 *
 * @example
 * ```ts
 * import { FairRateLimiter } from "./mod.ts";
 * using upload = new FairRateLimiter({ bytesPerSecond: 0 }); // unlimited
 * await upload.acquire("peer", 262144); // resolves at once
 * ```
 * @module
 */
export { type Clock, ManualClock, systemClock } from "./clock.ts";
export { defaultBurst, TokenBucket, type TokenBucketOptions } from "./token_bucket.ts";
export {
  type AcquireOptions,
  FairRateLimiter,
  type FairRateLimiterOptions,
  type FairRateLimiterStats,
  type KeyStats,
} from "./fair.ts";
export { RateLimitError } from "./errors.ts";
