/**
 * A counting semaphore: at most `size` holders at once, the rest wait in
 * order. The service announces its seeds through it, so a node that seeds
 * thousands of items does not send them to its peers all at once (their
 * ADD_PROVIDER rate limit would slow it down or, past it, count as a flood).
 *
 * @example
 * ```ts
 * const slots = new Slots(8);
 * await slots.run(() => provide(cid));
 * ```
 * @module
 */

/** The semaphore. */
export class Slots {
  #free: number;
  #waiting: (() => void)[] = [];

  /** Creates a semaphore with `size` slots. */
  constructor(size: number) {
    this.#free = Math.max(1, size);
  }

  /** Runs `fn` once a slot is free, and frees it afterwards. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
