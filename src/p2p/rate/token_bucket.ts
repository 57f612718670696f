/**
 * A token bucket: `bytesPerSecond` tokens accrue continuously up to `burst`;
 * sending `n` bytes takes `n` tokens. Rate 0 means unlimited. Time comes from
 * an injected clock; the bucket never waits by itself.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./token_bucket.ts";
 * let t = 0;
 * const bucket = new TokenBucket({ bytesPerSecond: 1000, burst: 500, now: () => t });
 * bucket.tryTake(500); // true: starts full
 * bucket.tryTake(1); // false
 * bucket.msUntil(100); // 100
 * t = 100;
 * bucket.tryTake(100); // true
 * ```
 * @module
 */
import { RateLimitError } from "./errors.ts";

/** Options of {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /** Sustained rate; 0 is unlimited. */
  bytesPerSecond: number;
  /** Capacity (default: a tenth of a second of the rate, at least 64 KiB). */
  burst?: number;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** Tolerance for float rounding when comparing token counts. */
const EPSILON = 1e-6;

/**
 * A token bucket. Amounts larger than `burst` go through
 * {@linkcode TokenBucket.take}, which lends the missing tokens and returns
 * the proportional wait.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./token_bucket.ts";
 * let t = 0;
 * const b = new TokenBucket({ bytesPerSecond: 1e6, burst: 65536, now: () => t });
 * b.take(1_065_536); // 1000: wait one second before the next send
 * ```
 */
export class TokenBucket {
  #rate = 0;
  #burst = 0;
  #tokens = 0;
  #last: number;
  readonly #now: () => number;

  /** A full bucket. */
  constructor(options: TokenBucketOptions) {
    this.#now = options.now ?? (() => performance.now());
    this.#last = this.#now();
    this.setRate(options.bytesPerSecond, options.burst);
    this.#tokens = this.#burst;
  }

  /** The rate in bytes per second (0: unlimited). */
  get bytesPerSecond(): number {
    return this.#rate;
  }

  /** The capacity in bytes. */
  get burst(): number {
    return this.#burst;
  }

  /**
   * Changes the rate (tokens accrued so far at the old rate are kept, up to
   * the new burst). `burst` defaults to a tenth of a second of the new rate,
   * at least 64 KiB.
   */
  setRate(bytesPerSecond: number, burst?: number): void {
    checkRate("bytesPerSecond", bytesPerSecond);
    const b = burst ?? defaultBurst(bytesPerSecond);
    if (!(b > 0) || !Number.isFinite(b)) {
      throw new RateLimitError(`TokenBucket: burst must be a positive number of bytes, got ${b}`);
    }
    this.refill(Math.max(this.#burst, b));
    this.#rate = bytesPerSecond;
    this.#burst = b;
    if (this.#tokens > b) this.#tokens = b;
    if (bytesPerSecond === 0) this.#tokens = b;
  }

  /** Tokens available now (Infinity when unlimited). May be negative after `take()` went into debt. */
  available(): number {
    if (this.#rate === 0) return Infinity;
    this.refill(this.#burst);
    return this.#tokens;
  }

  /** Takes `n` tokens if available now. */
  tryTake(n: number): boolean {
    checkAmount(n);
    if (this.#rate === 0) return true;
    this.refill(this.#burst);
    if (this.#tokens + EPSILON < n) return false;
    this.#tokens -= n;
    return true;
  }

  /**
   * Takes `n` tokens now, going into debt if needed, and returns how long to
   * wait (ms) before sending them keeps to the rate (0 if they were there).
   */
  take(n: number): number {
    checkAmount(n);
    if (this.#rate === 0) return 0;
    this.refill(this.#burst);
    this.#tokens -= n;
    return this.#tokens >= -EPSILON ? 0 : (-this.#tokens * 1000) / this.#rate;
  }

  /** Milliseconds until `tryTake(n)` succeeds; Infinity when `n` exceeds the burst (use `take`). */
  msUntil(n: number): number {
    checkAmount(n);
    if (this.#rate === 0) return 0;
    if (n > this.#burst) return Infinity;
    this.refill(this.#burst);
    const missing = n - this.#tokens;
    return missing <= EPSILON ? 0 : (missing * 1000) / this.#rate;
  }

  /**
   * Accrues tokens up to `capacity` (used by `FairRateLimiter` to
   * let one large waiting request accumulate beyond `burst`). Tokens above
   * `capacity` are dropped.
   */
  refill(capacity: number): number {
    const now = this.#now();
    const elapsed = now - this.#last;
    this.#last = now;
    if (elapsed > 0 && this.#rate > 0) this.#tokens += (elapsed * this.#rate) / 1000;
    if (this.#tokens > capacity) this.#tokens = capacity;
    return this.#tokens;
  }

  /** Removes `n` tokens unconditionally (after a check with `refill`). */
  consume(n: number): void {
    this.#tokens -= n;
  }
}

/**
 * A tenth of a second of `bytesPerSecond`, at least 64 KiB.
 *
 * @example
 * ```ts
 * import { defaultBurst } from "./token_bucket.ts";
 * defaultBurst(10_000_000); // 1_000_000
 * ```
 */
export function defaultBurst(bytesPerSecond: number): number {
  return Math.max(65536, bytesPerSecond / 10);
}

function checkRate(name: string, value: number): void {
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RateLimitError(`${name} must be a finite number >= 0 (0: unlimited), got ${value}`);
  }
}

function checkAmount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RateLimitError(`TokenBucket: amount must be a non-negative integer, got ${n}`);
  }
}
