/**
 * Sending provider records to one peer within what it accepts: a token
 * bucket of records per peer (at most `burst` at once, then `rate` per
 * second), and waits and deadlines on an injected clock, cut short by a
 * stop signal.
 *
 * @example
 * ```ts
 * const pacer = new Pacer({ clock, rate: 25, burst: 500, stop: signal });
 * await pacer.paced("12D3KooW…", keys, (chunk) => pacer.deadline(60_000, (s) => send(chunk, s)));
 * ```
 * @module
 */
import type { Clock } from "../rate/clock.ts";
import { TokenBucket } from "../rate/token_bucket.ts";

/** Options of {@linkcode Pacer}. */
export interface PacerOptions {
  clock: Clock;
  /** Records per second to one peer past the burst. */
  rate: number;
  /** Records to one peer at once. */
  burst: number;
  /** The current stop signal (waits end with its reason when it aborts). */
  stop: () => AbortSignal;
}

/** Per-peer pacing of records. */
export class Pacer {
  #o: PacerOptions;
  #buckets = new Map<string, TokenBucket>();

  /** Creates the pacer. */
  constructor(options: PacerOptions) {
    this.#o = options;
  }

  /** Calls `send` on chunks of at most `burst` of `items`, each when `peer`'s budget allows. */
  async paced<T>(peer: string, items: T[], send: (chunk: T[]) => Promise<void>): Promise<void> {
    let bucket = this.#buckets.get(peer);
    if (!bucket) {
      bucket = new TokenBucket({
        bytesPerSecond: this.#o.rate,
        burst: this.#o.burst,
        now: this.#o.clock.now,
      });
      this.#buckets.set(peer, bucket);
      if (this.#buckets.size > 4096) this.#prune();
    }
    for (let at = 0; at < items.length; at += this.#o.burst) {
      const chunk = items.slice(at, at + this.#o.burst);
      const wait = bucket.take(chunk.length);
      if (wait > 0) await this.sleep(wait);
      await send(chunk);
    }
  }

  /** Runs `fn` with a signal aborted by the stop signal or after `ms`. */
  async deadline<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeout = new AbortController();
    const cancel = this.#o.clock.setTimer(
      () => timeout.abort(new Error(`timed out after ${ms} ms`)),
      ms,
    );
    try {
      return await fn(AbortSignal.any([this.#o.stop(), timeout.signal]));
    } finally {
      cancel();
    }
  }

  /** Resolves after `ms`, or rejects when the stop signal aborts first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const signal = this.#o.stop();
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        cancel();
        reject(signal.reason);
      };
      const cancel = this.#o.clock.setTimer(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Forgets peers whose budget is full again (bounded memory). */
  #prune(): void {
    for (const [peer, b] of this.#buckets) {
      if (b.available() >= b.burst) this.#buckets.delete(peer);
    }
  }
}
