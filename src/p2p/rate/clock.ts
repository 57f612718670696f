/**
 * Time for the rate limiters: the current time in milliseconds and a
 * one-shot timer. The system clock uses `performance.now()` and
 * `setTimeout`; {@linkcode ManualClock} is moved by hand, so tests and
 * simulations never wait in real time.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * const clock = new ManualClock();
 * let fired = 0;
 * clock.setTimer(() => fired++, 50);
 * clock.advance(49); // fired === 0
 * clock.advance(1); // fired === 1, clock.now() === 50
 * ```
 * @module
 */

/** A clock and a timer; `setTimer` returns a function that cancels the timer. */
export interface Clock {
  /** Current time in milliseconds (never goes backwards). */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a cancel function. */
  setTimer(fn: () => void, ms: number): () => void;
}

/**
 * The real clock: `performance.now()` and `setTimeout`.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 * const cancel = systemClock.setTimer(() => console.log("late"), 1000);
 * cancel();
 * ```
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => {
    const id = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(id);
  },
};

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to. Timers fire in deadline order (ties
 * in creation order), each with the clock set to its deadline. `now` and
 * `setTimer` are bound, so `{ now, setTimer }` can be passed around.
 *
 * @example
 * ```ts
 * import { ManualClock } from "./clock.ts";
 * const clock = new ManualClock(1000);
 * clock.setTimer(() => console.log(clock.now()), 10); // logs 1010...
 * clock.fireNext(); // ...here
 * ```
 */
export class ManualClock implements Clock {
  #t: number;
  #seq = 0;
  #timers: PendingTimer[] = [];

  /** Starts at `start` milliseconds. */
  constructor(start = 0) {
    this.#t = start;
  }

  /** The current time. */
  readonly now = (): number => this.#t;

  /** Schedules `fn` at `now() + ms` (negative delays count as 0). */
  readonly setTimer = (fn: () => void, ms: number): () => void => {
    const timer = { at: this.#t + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return () => {
      const i = this.#timers.indexOf(timer);
      if (i !== -1) this.#timers.splice(i, 1);
    };
  };

  /** Number of timers not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Deadline of the next timer, if any. */
  get nextAt(): number | undefined {
    return this.#timers[0]?.at;
  }

  /** Moves to the next timer's deadline and fires it; false when no timer is pending. */
  fireNext(): boolean {
    const timer = this.#timers.shift();
    if (!timer) return false;
    if (timer.at > this.#t) this.#t = timer.at;
    timer.fn();
    return true;
  }

  /** Moves forward `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    const end = this.#t + ms;
    while (this.#timers.length > 0 && this.#timers[0]!.at <= end) this.fireNext();
    this.#t = end;
  }
}
