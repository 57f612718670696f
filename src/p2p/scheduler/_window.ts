/**
 * The per-peer request window: AIMD (additive increase, multiplicative
 * decrease) with a slow start until the first decrease, like TCP Reno, plus
 * a queue-delay cap so a slow peer never holds more work than it can serve
 * within a bounded time.
 *
 * @example
 * ```ts
 * import { AimdWindow } from "./_window.ts";
 * const w = new AimdWindow(4, 64);
 * w.increase(); // slow start: 5
 * w.decrease(); // 2 (halved, floored), additive from now on
 * w.size; // 2
 * ```
 * @module
 */

/** A congestion window in blocks, between 1 and `max`. */
export class AimdWindow {
  readonly #max: number;
  #cwnd: number;
  /** Slow start (+1 per block) below this, additive (+1 per window of blocks) above. */
  #ssthresh = Infinity;

  /** Starts at `initial` blocks, never exceeds `max`. */
  constructor(initial: number, max: number) {
    this.#max = max;
    this.#cwnd = initial;
  }

  /** The window in whole blocks (at least 1). */
  get size(): number {
    return Math.max(1, Math.floor(this.#cwnd));
  }

  /** True while still in slow start (no decrease yet). */
  get slowStart(): boolean {
    return this.#cwnd < this.#ssthresh;
  }

  /**
   * One block arrived: +1 in slow start, else +1/size (one block per window
   * of arrivals). `limit` caps the growth (the queue-delay cap): a window
   * already at the cap does not grow.
   */
  increase(limit = Infinity): void {
    const cap = Math.min(this.#max, limit);
    if (this.size >= cap) return;
    this.#cwnd += this.slowStart ? 1 : 1 / this.size;
    if (this.#cwnd > this.#max) this.#cwnd = this.#max;
  }

  /** A stall: back to one block, slow start up to half the old window. */
  collapse(): void {
    this.#ssthresh = Math.max(1, Math.floor(this.#cwnd / 2));
    this.#cwnd = 1;
  }

  /** A loss (timeout, busy, bad block): halve, at least 1, and leave slow start. */
  decrease(): void {
    this.#cwnd = Math.max(1, Math.floor(this.#cwnd / 2));
    this.#ssthresh = this.#cwnd;
  }
}
