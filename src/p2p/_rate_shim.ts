/**
 * Temporary stand-in for `./rate/mod.ts` (being written): an unlimited or
 * simple token-bucket limiter with the same `acquire` shape.
 * @module
 */

/** Minimal limiter. */
export class FairRateLimiter {
  #rate: number;
  #next = 0;
  /** Creates it; 0 = unlimited. */
  constructor(options: { bytesPerSecond: number }) {
    this.#rate = options.bytesPerSecond;
  }
  /** Waits until `bytes` may pass. */
  async acquire(
    _key: string,
    bytes: number,
    _options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    if (this.#rate <= 0) return;
    const now = performance.now();
    const start = Math.max(now, this.#next);
    this.#next = start + (bytes / this.#rate) * 1000;
    const wait = start - now;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
