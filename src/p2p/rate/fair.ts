/**
 * A rate limiter shared fairly by many consumers (peers): one token bucket,
 * and waiting requests served by start-time fair queueing, i.e. a
 * round-robin weighted by bytes. Each request gets a start tag
 * `max(virtual time, the key's previous finish tag)` and a finish tag
 * `start + bytes`; the waiting request with the smallest start tag goes
 * next. A key asking for much, or with many requests at once, cannot starve
 * the others; a key that was idle comes back at the current virtual time
 * (no credit hoarded) and is served within about one round.
 *
 * The only timer is the one that wakes the next waiter; clock and timer are
 * injectable.
 *
 * @example
 * ```ts
 * import { FairRateLimiter } from "./fair.ts";
 * const upload = new FairRateLimiter({ bytesPerSecond: 20e6 });
 * await upload.acquire("12D3KooWpeerA", 262144); // then send the block
 * upload.stats().keys; // [{ key: "12D3KooWpeerA", bytes: 262144, ... }]
 * upload.close();
 * ```
 * @module
 */
import { type Clock, systemClock } from "./clock.ts";
import { RateLimitError } from "./errors.ts";
import { defaultBurst, TokenBucket } from "./token_bucket.ts";

/** Options of {@linkcode FairRateLimiter}. */
export interface FairRateLimiterOptions {
  /** Total rate shared by all keys; 0 is unlimited. */
  bytesPerSecond: number;
  /** Bucket capacity (default: a tenth of a second of the rate, at least 64 KiB). */
  burst?: number;
  /** Clock in milliseconds (default `performance.now`). */
  now?: Clock["now"];
  /** One-shot timer returning a cancel function (default `setTimeout`). */
  setTimer?: Clock["setTimer"];
}

/** Options of {@linkcode FairRateLimiter.acquire}. */
export interface AcquireOptions {
  /** Aborting removes the request from the queue and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Counters of one key. */
export interface KeyStats {
  key: string;
  /** Bytes granted. */
  bytes: number;
  /** Requests granted. */
  grants: number;
  /** Requests waiting now. */
  waiting: number;
  /** Total time granted requests waited (ms). */
  waitedMs: number;
}

/** Counters of a limiter. */
export interface FairRateLimiterStats {
  bytesPerSecond: number;
  burst: number;
  /** Bytes granted to all keys. */
  totalBytes: number;
  /** Requests waiting now. */
  waiting: number;
  keys: KeyStats[];
}

interface Waiter {
  key: string;
  bytes: number;
  start: number;
  seq: number;
  since: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** Tolerance for float rounding when comparing token counts. */
const EPSILON = 1e-6;

/**
 * Fair shared rate limiter. `acquire(key, bytes)` resolves when `bytes` may
 * be sent; amounts above the burst wait their proportional time.
 *
 * @example
 * ```ts
 * import { FairRateLimiter } from "./fair.ts";
 * import { ManualClock } from "./clock.ts";
 * const clock = new ManualClock();
 * const limiter = new FairRateLimiter({ bytesPerSecond: 1000, burst: 1000, ...clock });
 * await limiter.acquire("a", 1000); // immediate: the bucket starts full
 * const later = limiter.acquire("a", 500);
 * clock.fireNext(); // 500 ms later
 * await later;
 * ```
 */
export class FairRateLimiter implements Disposable {
  readonly #bucket: TokenBucket;
  readonly #now: () => number;
  readonly #setTimer: Clock["setTimer"];
  readonly #queues = new Map<string, Waiter[]>();
  readonly #finish = new Map<string, number>();
  readonly #stats = new Map<string, KeyStats>();
  #vtime = 0;
  #seq = 0;
  #waiting = 0;
  #totalBytes = 0;
  #cancelTimer: (() => void) | undefined;
  #closed: unknown;

  /** Creates the limiter; its bucket starts full. */
  constructor(options: FairRateLimiterOptions) {
    this.#now = options.now ?? systemClock.now;
    this.#setTimer = options.setTimer ?? systemClock.setTimer;
    checkOptions(options.bytesPerSecond, options.burst);
    this.#bucket = new TokenBucket({
      bytesPerSecond: options.bytesPerSecond,
      burst: options.burst ?? defaultBurst(options.bytesPerSecond),
      now: this.#now,
    });
  }

  /** The shared rate (0: unlimited). */
  get bytesPerSecond(): number {
    return this.#bucket.bytesPerSecond;
  }

  /** The bucket capacity. */
  get burst(): number {
    return this.#bucket.burst;
  }

  /** Requests waiting now. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Resolves when `key` may send `bytes`. Rejects with the signal's reason if
   * aborted first, or with a {@linkcode RateLimitError} if the limiter is
   * closed.
   */
  acquire(key: string, bytes: number, options: AcquireOptions = {}): Promise<void> {
    if (typeof key !== "string") {
      return Promise.reject(
        new RateLimitError(`acquire(): key must be a string, got ${typeof key}`),
      );
    }
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      return Promise.reject(
        new RateLimitError(
          `acquire(): bytes must be a non-negative integer, got ${bytes} (key ${
            JSON.stringify(key)
          })`,
        ),
      );
    }
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const stats = this.#keyStats(key);
    if (bytes === 0) return Promise.resolve();
    if (this.#bucket.bytesPerSecond === 0) {
      this.#count(stats, bytes, 0);
      return Promise.resolve();
    }
    const start = Math.max(this.#vtime, this.#finish.get(key) ?? 0);
    this.#finish.set(key, start + bytes);
    if (this.#waiting === 0 && this.#bucket.refill(this.#bucket.burst) + EPSILON >= bytes) {
      this.#bucket.consume(bytes);
      this.#vtime = start;
      this.#count(stats, bytes, 0);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        key,
        bytes,
        start,
        seq: this.#seq++,
        since: this.#now(),
        resolve,
        reject,
        signal,
        onAbort: undefined,
      };
      if (signal) {
        w.onAbort = () => this.#abort(w);
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      let q = this.#queues.get(key);
      if (!q) this.#queues.set(key, q = []);
      q.push(w);
      this.#waiting++;
      stats.waiting++;
      this.#pump();
    });
  }

  /**
   * Changes the rate (and optionally the burst) at run time; waiting requests
   * are rescheduled at the new rate. 0 releases every waiting request.
   */
  setRate(bytesPerSecond: number, burst?: number): void {
    checkOptions(bytesPerSecond, burst);
    this.#bucket.setRate(bytesPerSecond, burst);
    this.#pump();
  }

  /** Counters per key and in total. */
  stats(): FairRateLimiterStats {
    return {
      bytesPerSecond: this.#bucket.bytesPerSecond,
      burst: this.#bucket.burst,
      totalBytes: this.#totalBytes,
      waiting: this.#waiting,
      keys: [...this.#stats.values()].map((s) => ({ ...s })),
    };
  }

  /** Bytes granted to `key` so far. */
  bytesFor(key: string): number {
    return this.#stats.get(key)?.bytes ?? 0;
  }

  /** Drops the counters and fairness state of a key with nothing waiting (a peer gone for good). */
  forget(key: string): void {
    if (this.#queues.get(key)?.length) return;
    this.#queues.delete(key);
    this.#finish.delete(key);
    this.#stats.delete(key);
  }

  /** Rejects every waiting request with `reason` and refuses new ones; cancels the timer. */
  close(reason: unknown = new RateLimitError("rate limiter closed")): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    this.#cancel();
    for (const q of this.#queues.values()) {
      for (const w of q.splice(0)) {
        this.#detach(w);
        w.reject(reason);
      }
    }
    this.#waiting = 0;
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  // ---------------------------------------------------------------- internals

  #keyStats(key: string): KeyStats {
    let s = this.#stats.get(key);
    if (!s) this.#stats.set(key, s = { key, bytes: 0, grants: 0, waiting: 0, waitedMs: 0 });
    return s;
  }

  #count(stats: KeyStats, bytes: number, waitedMs: number): void {
    stats.bytes += bytes;
    stats.grants++;
    stats.waitedMs += waitedMs;
    this.#totalBytes += bytes;
  }

  /** Grants every waiting request the bucket allows, in start-tag order; arms the timer for the next. */
  #pump(): void {
    this.#cancel();
    const unlimited = this.#bucket.bytesPerSecond === 0;
    for (;;) {
      let head: Waiter | undefined;
      let largest = 0;
      for (const q of this.#queues.values()) {
        const w = q[0];
        if (!w) continue;
        if (w.bytes > largest) largest = w.bytes;
        if (!head || w.start < head.start || (w.start === head.start && w.seq < head.seq)) head = w;
      }
      if (!head) return;
      if (!unlimited) {
        // A request larger than the burst may accumulate up to its own size while it waits.
        const tokens = this.#bucket.refill(Math.max(this.#bucket.burst, largest));
        if (tokens + EPSILON < head.bytes) {
          const ms = ((head.bytes - tokens) * 1000) / this.#bucket.bytesPerSecond;
          this.#cancelTimer = this.#setTimer(() => {
            this.#cancelTimer = undefined;
            this.#pump();
          }, ms);
          return;
        }
        this.#bucket.consume(head.bytes);
      }
      this.#vtime = head.start;
      this.#queues.get(head.key)!.shift();
      this.#waiting--;
      const stats = this.#keyStats(head.key);
      stats.waiting--;
      this.#count(stats, head.bytes, this.#now() - head.since);
      this.#detach(head);
      head.resolve();
    }
  }

  #abort(w: Waiter): void {
    const q = this.#queues.get(w.key);
    const i = q?.indexOf(w) ?? -1;
    if (!q || i === -1) return;
    q.splice(i, 1);
    // The last request of its key gives its share back.
    if (i === q.length) this.#finish.set(w.key, w.start);
    this.#waiting--;
    this.#keyStats(w.key).waiting--;
    w.reject(w.signal?.reason);
    this.#pump();
  }

  #detach(w: Waiter): void {
    if (w.signal && w.onAbort) w.signal.removeEventListener("abort", w.onAbort);
  }

  #cancel(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }
}

function checkOptions(bytesPerSecond: number, burst: number | undefined): void {
  if (!(bytesPerSecond >= 0) || !Number.isFinite(bytesPerSecond)) {
    throw new RateLimitError(
      `FairRateLimiter: bytesPerSecond must be a finite number >= 0 (0: unlimited), got ${bytesPerSecond}`,
    );
  }
  if (burst !== undefined && (!(burst > 0) || !Number.isFinite(burst))) {
    throw new RateLimitError(
      `FairRateLimiter: burst must be a positive number of bytes, got ${burst}`,
    );
  }
}
