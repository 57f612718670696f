/**
 * Per-peer state of the block scheduler: what the peer can serve, what it
 * must not be asked for, its requests in flight, its window and counters.
 *
 * @example
 * ```ts
 * import { PeerState } from "./_peer.ts";
 * const p = new PeerState("peer-a", "all", 4, 64);
 * p.faulted.add(3);
 * [p.serves(2), p.serves(3)]; // [true, false]
 * ```
 * @module
 */
import { AimdWindow } from "./_window.ts";

/**
 * Which blocks a peer can serve: a manifest's have-bitfield (`Bitfield` from
 * `src/p2p/bitfield.ts` fits), or anything with `get(i)`. `size`, when
 * present, is checked against the block count; `nextSet`, when present,
 * speeds up counting.
 *
 * @example
 * ```ts
 * import type { BlockAvailability } from "./_peer.ts";
 * const evens: BlockAvailability = { get: (i) => i % 2 === 0 };
 * ```
 */
export interface BlockAvailability {
  /** Whether block `i` is available. */
  get(i: number): boolean;
  /** Number of blocks described, if known. */
  readonly size?: number;
  /** First available block at or after `from`, or -1. */
  nextSet?(from: number): number;
}

/** One outstanding request of one block at one peer. */
export interface Copy {
  readonly peer: PeerState;
  readonly index: number;
  readonly sentAt: number;
}

/** Smoothing factor of the round-trip and inter-arrival averages. */
const ALPHA = 1 / 8;

/** Mutable state of one peer. */
export class PeerState {
  readonly id: string;
  have: BlockAvailability | "all";
  /** Blocks the peer said it lacks (`not-available`, `error`), until its availability is updated. */
  readonly lacks = new Set<number>();
  /** Blocks the peer sent bad data for: never asked again. */
  readonly faulted = new Set<number>();
  readonly inflight = new Map<number, Copy>();
  readonly window: AimdWindow;

  requested = 0;
  received = 0;
  duplicates = 0;
  faults = 0;
  timeouts = 0;
  consecutiveTimeouts = 0;
  notAvailable = 0;
  busy = 0;
  errors = 0;
  cancelled = 0;
  bytes = 0;
  busyMs = 0;
  busySince = 0;
  lastArrival = -1;
  /** Average time between arrivals while requests were outstanding (ms), NaN until measured. */
  gapMs = NaN;
  /** Smoothed round-trip time of a request (ms), NaN until measured. */
  srttMs = NaN;

  /** A peer serving `have`, window starting at `initialWindow`, at most `maxWindow`. */
  constructor(
    id: string,
    have: BlockAvailability | "all",
    initialWindow: number,
    maxWindow: number,
  ) {
    this.id = id;
    this.have = have;
    this.window = new AimdWindow(initialWindow, maxWindow);
  }

  /** Whether the peer's availability includes block `i`. */
  has(i: number): boolean {
    return this.have === "all" || this.have.get(i);
  }

  /** Whether the peer may be asked for block `i` (has it, did not refuse or fault on it). */
  serves(i: number): boolean {
    return this.has(i) && !this.lacks.has(i) && !this.faulted.has(i);
  }

  /** Window capped so that the queued work takes at most `maxQueueDelayMs` at the measured rate. */
  effectiveWindow(maxQueueDelayMs: number): number {
    return Math.min(this.window.size, this.queueCap(maxQueueDelayMs));
  }

  /** The queue-delay cap: `maxQueueDelayMs / gap`, at least 2; unbounded until measured. */
  queueCap(maxQueueDelayMs: number): number {
    if (!(this.gapMs > 0) || !Number.isFinite(maxQueueDelayMs)) return Infinity;
    return Math.max(2, Math.floor(maxQueueDelayMs / this.gapMs));
  }

  /** Records an answer to a request sent at `sentAt`, arriving at `now`. */
  sample(sentAt: number, now: number): void {
    const rtt = now - sentAt;
    this.srttMs = Number.isNaN(this.srttMs) ? rtt : this.srttMs + ALPHA * (rtt - this.srttMs);
    // Inter-arrival gaps count only while the peer was busy since the last arrival.
    if (this.lastArrival >= 0 && this.busySince <= this.lastArrival) {
      const gap = now - this.lastArrival;
      this.gapMs = Number.isNaN(this.gapMs) ? gap : this.gapMs + ALPHA * (gap - this.gapMs);
    }
    this.lastArrival = now;
  }
}
