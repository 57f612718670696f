/**
 * Simulated time for the scale simulation: a discrete-event clock whose
 * timers fire in time order without real time passing. `install()` puts it
 * in place of the process's timers (`setTimeout`, `setInterval`,
 * `AbortSignal.timeout`, `Date.now`, `performance.now`, and `Math.random`
 * with a seeded generator), so unmodified library code — kad-dht's queries,
 * adaptive timeouts, refresh and republish timers — runs on simulated time.
 * `run()` alternates: drain the microtask queue (one real macrotask turn),
 * then fire the earliest timer, until a condition holds or a time is reached.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock({ seed: 1 });
 * const restore = clock.install();
 * setTimeout(() => console.log(Date.now()), 5000);
 * await clock.run({ until: 10_000 }); // prints 1700000005000 at once
 * restore();
 * ```
 * @module
 */
import { setImmediate as realSetImmediate } from "node:timers";
import { mulberry32 } from "../../tests/support/random.ts";
import { EventQueue } from "../../tests/support/scheduler_sim/event_queue.ts";

/** Real milliseconds (monotonic), unaffected by {@linkcode VirtualClock.install}. */
export const realNow: () => number = performance.now.bind(performance);

/** Wall-clock epoch of simulated time 0 (Date.now() = EPOCH + time). */
export const EPOCH = 1_700_000_000_000;

interface Timer {
  id: number;
  fn: () => void;
  every: number | undefined;
}

/** The simulated clock. */
export class VirtualClock {
  /** Simulated milliseconds since the start. */
  now = 0;
  /** Timers fired so far. */
  fired = 0;
  #queue = new EventQueue<Timer>();
  #live = new Map<number, Timer>();
  #nextId = 1;
  #random: () => number;

  /** Creates a clock at time 0; `seed` seeds the `Math.random` it installs. */
  constructor(options: { seed: number }) {
    this.#random = mulberry32(options.seed);
  }

  /** Timers pending. */
  get pending(): number {
    return this.#live.size;
  }

  /** Calls `fn` at `now + ms`; returns an id for {@linkcode clear}. */
  set(fn: () => void, ms: number, every?: number): number {
    const t: Timer = { id: this.#nextId++, fn, every };
    this.#live.set(t.id, t);
    this.#queue.push(this.now + Math.max(0, ms || 0), t);
    return t.id;
  }

  /** Cancels a timer. */
  clear(id: unknown): void {
    if (typeof id === "number") this.#live.delete(id);
  }

  /** A signal aborted with a TimeoutError `ms` from now (as `AbortSignal.timeout`). */
  timeoutSignal(ms: number): AbortSignal {
    const c = new AbortController();
    this.set(() => c.abort(new DOMException("signal timed out", "TimeoutError")), ms);
    return c.signal;
  }

  /** Replaces the global timers, clocks and `Math.random`; returns a function restoring them. */
  install(): () => void {
    const g = globalThis as unknown as Record<string, unknown>;
    const saved = {
      setTimeout: g.setTimeout,
      clearTimeout: g.clearTimeout,
      setInterval: g.setInterval,
      clearInterval: g.clearInterval,
      dateNow: Date.now,
      perfNow: performance.now,
      random: Math.random,
      abortTimeout: AbortSignal.timeout,
    };
    g.setTimeout = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      this.set(() => fn(...args), ms ?? 0);
    g.clearTimeout = (id: unknown) => this.clear(id);
    g.setInterval = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) =>
      this.set(() => fn(...args), ms ?? 0, Math.max(1, ms ?? 0));
    g.clearInterval = (id: unknown) => this.clear(id);
    Date.now = () => EPOCH + Math.floor(this.now);
    performance.now = () => this.now;
    Math.random = this.#random;
    AbortSignal.timeout = (ms: number) => this.timeoutSignal(ms);
    return () => {
      g.setTimeout = saved.setTimeout;
      g.clearTimeout = saved.clearTimeout;
      g.setInterval = saved.setInterval;
      g.clearInterval = saved.clearInterval;
      Date.now = saved.dateNow;
      performance.now = saved.perfNow;
      Math.random = saved.random;
      AbortSignal.timeout = saved.abortTimeout;
    };
  }

  /**
   * Runs until `done()` holds (checked after every quiet point), simulated
   * time would pass `until`, or no timer is left. Between timers the
   * microtask queue is drained, so every promise chain a timer started has
   * settled before the clock moves on.
   */
  async run(options: { until?: number; done?: () => boolean }): Promise<void> {
    const until = options.until ?? Infinity;
    for (;;) {
      await drain();
      if (options.done?.()) return;
      const next = this.#popLive(until);
      if (!next) {
        if (until !== Infinity) this.now = Math.max(this.now, until);
        return;
      }
      // Every timer due at this instant fires before the next drain.
      let t: Timer | undefined = next;
      const at = this.now;
      while (t) {
        this.#fire(t);
        t = this.#popLive(at);
      }
    }
  }

  #popLive(until: number): Timer | undefined {
    for (;;) {
      const e = this.#queue.peek();
      if (!e || e.at > until) return undefined;
      this.#queue.pop();
      if (this.#live.get(e.value.id) !== e.value) continue;
      this.now = Math.max(this.now, e.at);
      return e.value;
    }
  }

  #fire(t: Timer): void {
    this.fired++;
    if (t.every !== undefined) this.#queue.push(this.now + t.every, t);
    else this.#live.delete(t.id);
    try {
      t.fn();
    } catch (e) {
      console.error("simulated timer threw:", e);
    }
  }
}

/** One real macrotask turn: every pending microtask (and what it chains) runs first. */
export function drain(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}
