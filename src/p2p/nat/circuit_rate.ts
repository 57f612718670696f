/**
 * The relay's per-peer circuit budget: each peer may open `perMinute`
 * relayed connections through this node per minute (a token bucket per
 * source peer, starting full). Together with the per-circuit data and time
 * limits it bounds what one peer can make a relay forward. At most
 * `maxPeers` buckets are kept; the oldest is forgotten first.
 *
 * @example
 * ```ts
 * const rate = new CircuitRate({ perMinute: 6 });
 * rate.allow("12D3KooW…"); // true until the peer's budget is spent
 * ```
 * @module
 */
import { TokenBucket } from "../rate/mod.ts";

/** Options of {@linkcode CircuitRate}. */
export interface CircuitRateOptions {
  /** Circuits one peer may open per minute (also the burst). */
  perMinute: number;
  /** Buckets kept (default 1024). */
  maxPeers?: number;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** Per-peer circuit budget. */
export class CircuitRate {
  #o: CircuitRateOptions;
  #buckets = new Map<string, TokenBucket>();

  /** Creates the budget. */
  constructor(options: CircuitRateOptions) {
    if (!(options.perMinute >= 1)) {
      throw new RangeError(`CircuitRate: perMinute must be at least 1, got ${options.perMinute}`);
    }
    this.#o = options;
  }

  /** Takes one circuit from `peer`'s budget; false when it is spent. */
  allow(peer: string): boolean {
    let bucket = this.#buckets.get(peer);
    if (!bucket) {
      bucket = new TokenBucket({
        bytesPerSecond: this.#o.perMinute / 60,
        burst: this.#o.perMinute,
        ...(this.#o.now ? { now: this.#o.now } : {}),
      });
      this.#buckets.set(peer, bucket);
      const max = this.#o.maxPeers ?? 1024;
      if (this.#buckets.size > max) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
    }
    return bucket.tryTake(1);
  }

  /** Peers tracked (for tests). */
  get size(): number {
    return this.#buckets.size;
  }
}
