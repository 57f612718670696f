/**
 * A tiny "something changed" notifier for the engines: any number of waiters,
 * all woken by the next `notify()`.
 *
 * @example
 * ```ts
 * import { Changes } from "./_changes.ts";
 * const changes = new Changes();
 * const waited = changes.next();
 * changes.notify();
 * await waited;
 * ```
 * @module
 */

/**
 * Wakes every pending {@linkcode Changes.next} promise on `notify()`.
 *
 * @example
 * ```ts
 * import { Changes } from "./_changes.ts";
 * const changes = new Changes();
 * setTimeout(() => changes.notify(), 0);
 * await changes.next();
 * ```
 */
export class Changes {
  #waiters: (() => void)[] = [];

  /** Resolves at the next `notify()`. */
  next(): Promise<void> {
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Wakes all current waiters. */
  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
