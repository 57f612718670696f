/**
 * When the sweep provider's next batch of new keys goes out: `soon()` within
 * `soonMs` (keys provided together go out together); `later()` once nothing
 * was deferred for `quietMs`, at most `maxMs` after the first deferred key —
 * the region lookups of a closure's auto-seeded items then run after its
 * substitutions, not between them. A batch due soon takes the deferred keys
 * with it.
 *
 * @example
 * ```ts
 * const timer = new BatchTimer({ clock, soonMs: 1000, quietMs: 5000, maxMs: 30_000, fire: send });
 * timer.later(); // send() in 5 s unless later() is called again
 * timer.soon();  // send() within 1 s instead
 * ```
 * @module
 */
import type { Clock } from "../rate/clock.ts";

/** Options of {@linkcode BatchTimer}. */
export interface BatchTimerInit {
  clock: Clock;
  soonMs: number;
  quietMs: number;
  maxMs: number;
  fire: () => void;
}

/** The batch timer. */
export class BatchTimer {
  #o: BatchTimerInit;
  #cancel: (() => void) | undefined;
  #at = Infinity;
  #kind: "soon" | "later" = "soon";
  #since: number | undefined;

  /** Creates an idle timer. */
  constructor(init: BatchTimerInit) {
    this.#o = init;
  }

  /** A batch within `soonMs` (unless one is due sooner). */
  soon(): void {
    const at = this.#o.clock.now() + this.#o.soonMs;
    if (this.#cancel && this.#at <= at) return;
    this.#set(this.#o.soonMs, "soon");
  }

  /** A batch after the quiet period (unless one is due soon anyway). */
  later(): void {
    if (this.#cancel && this.#kind === "soon") return;
    const now = this.#o.clock.now();
    this.#since ??= now;
    const left = this.#o.maxMs - (now - this.#since);
    this.#set(Math.max(0, Math.min(this.#o.quietMs, left)), "later");
  }

  /** Cancels the batch due (the keys stay new). */
  cancel(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#at = Infinity;
    this.#since = undefined;
  }

  #set(ms: number, kind: "soon" | "later"): void {
    this.#cancel?.();
    this.#kind = kind;
    this.#at = this.#o.clock.now() + ms;
    this.#cancel = this.#o.clock.setTimer(() => {
      this.#cancel = undefined;
      this.#at = Infinity;
      this.#since = undefined;
      this.#o.fire();
    }, ms);
  }
}
