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
import type { FailureReason, PeerStats } from "./types.ts";
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
  /** Last reply of any kind (block, bad block, refusal), -Infinity before the first. */
  lastHeard = -Infinity;
  /** Average time between arrivals while requests were outstanding (ms), NaN until measured. */
  gapMs = NaN;
  /** Smoothed round-trip time of a request (ms), NaN until measured. */
  srttMs = NaN;
  /** Smallest round-trip time seen (ms), NaN until measured. */
  minRttMs = NaN;
  /** Flagged by the stall guard; cleared by the next reply. */
  stallFlag = false;
  stalls = 0;

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

  /**
   * The window in use: one block while flagged stalled, else the AIMD window
   * capped so that the queued work takes at most `maxQueueDelayMs` beyond the
   * minimum round trip at the measured rate.
   */
  effectiveWindow(maxQueueDelayMs: number): number {
    if (this.stallFlag) return 1;
    return Math.min(this.window.size, this.queueCap(maxQueueDelayMs));
  }

  /**
   * The queue-delay cap: `(min rtt + maxQueueDelayMs) / gap` blocks, at least
   * 2; unbounded until measured. A window below the bandwidth-delay product
   * is never capped: then `rtt ≈ min rtt` and `gap ≈ rtt / window`.
   */
  queueCap(maxQueueDelayMs: number): number {
    if (!(this.gapMs > 0) || !Number.isFinite(maxQueueDelayMs)) return Infinity;
    return Math.max(2, Math.floor((this.minRttMs + maxQueueDelayMs) / this.gapMs));
  }

  /**
   * Expected arrival time of the request at FIFO position `rank` (0: the next
   * to arrive) sent at `sentAt`, from the minimum round trip and the
   * inter-arrival gap; a request already overdue is expected as late again
   * (`2 now - eta`). NaN until the peer's round trip is measured; until an
   * inter-arrival gap is, each queued block is assumed to take a round trip.
   */
  eta(rank: number, sentAt: number, now: number): number {
    if (Number.isNaN(this.minRttMs)) return NaN;
    // Until two arrivals give a gap, assume each queued block takes a whole round trip.
    const gap = Number.isNaN(this.gapMs) ? this.minRttMs : this.gapMs;
    const base = Math.max(this.lastArrival, this.busySince);
    const eta = Math.max(sentAt + this.minRttMs, base + (rank + 1) * gap);
    return eta >= now ? eta : 2 * now - eta;
  }

  /** Any reply from the peer: it is alive. */
  heard(now: number): void {
    this.lastHeard = now;
    this.stallFlag = false;
  }

  /**
   * Whether the peer has requests outstanding but has been silent for longer
   * than `max(minMs, 8 inter-arrival gaps, 2 round trips)` (before any round
   * trip is measured: `max(minMs, unmeasuredMs)`).
   */
  stalled(now: number, minMs: number, unmeasuredMs: number): boolean {
    if (this.inflight.size === 0) return false;
    const silent = now - Math.max(this.lastHeard, this.busySince);
    const limit = Number.isNaN(this.srttMs)
      ? Math.max(minMs, unmeasuredMs)
      : Math.max(minMs, 8 * (this.gapMs || 0), 2 * this.srttMs);
    return silent > limit;
  }

  /**
   * Stall guard: whether the peer is {@linkcode PeerState.stalled}; flags it
   * (window back to 1) the first time.
   */
  stallGuard(now: number, minMs: number, unmeasuredMs: number): boolean {
    if (!this.stalled(now, minMs, unmeasuredMs)) return false;
    if (!this.stallFlag) {
      this.stallFlag = true;
      this.stalls++;
      this.window.collapse();
    }
    return true;
  }

  /**
   * A block arrived at `now` carrying `bytes`; `sentAt` is when it was
   * requested if that request was still in flight here, which measures the
   * round trip and grows the window (capped by `maxQueueDelayMs`).
   */
  arrived(sentAt: number | undefined, bytes: number, now: number, maxQueueDelayMs: number): void {
    this.bytes += bytes;
    this.consecutiveTimeouts = 0;
    this.heard(now);
    if (sentAt !== undefined) {
      this.sample(sentAt, now);
      this.window.increase(this.queueCap(maxQueueDelayMs));
    }
  }

  /**
   * Counts a failed request (`inFlight`: it still was): `timeout` and `busy`
   * of a request in flight halve the window. Returns true for `not-available`
   * and `error`, when the block is to be marked lacking at this peer.
   */
  countFailure(reason: FailureReason, inFlight: boolean, now: number): boolean {
    if (reason !== "timeout") this.heard(now);
    switch (reason) {
      case "timeout":
        if (inFlight) {
          this.timeouts++;
          this.consecutiveTimeouts++;
          this.window.decrease();
        }
        return false;
      case "busy":
        if (inFlight) {
          this.busy++;
          this.window.decrease();
        }
        return false;
      case "not-available":
        this.notAvailable++;
        return true;
      case "error":
        this.errors++;
        return true;
    }
  }

  /** Records an answer to a request sent at `sentAt`, arriving at `now`. */
  sample(sentAt: number, now: number): void {
    const rtt = now - sentAt;
    this.srttMs = Number.isNaN(this.srttMs) ? rtt : this.srttMs + ALPHA * (rtt - this.srttMs);
    if (!(rtt >= this.minRttMs)) this.minRttMs = rtt;
    // Inter-arrival gaps count only while the peer was busy since the last arrival.
    if (this.lastArrival >= 0 && this.busySince <= this.lastArrival) {
      const gap = now - this.lastArrival;
      this.gapMs = Number.isNaN(this.gapMs) ? gap : this.gapMs + ALPHA * (gap - this.gapMs);
    }
    this.lastArrival = now;
  }

  /** This peer's counters at `now` (the window capped by `maxQueueDelayMs`). */
  stats(now: number, maxQueueDelayMs: number, stallMinMs: number, unmeasuredMs: number): PeerStats {
    const busy = this.busyMs + (this.inflight.size > 0 ? now - this.busySince : 0);
    return {
      peer: this.id,
      window: this.effectiveWindow(maxQueueDelayMs),
      inFlight: this.inflight.size,
      requested: this.requested,
      received: this.received,
      duplicates: this.duplicates,
      faults: this.faults,
      timeouts: this.timeouts,
      consecutiveTimeouts: this.consecutiveTimeouts,
      notAvailable: this.notAvailable,
      busy: this.busy,
      errors: this.errors,
      cancelled: this.cancelled,
      bytes: this.bytes,
      bytesPerSecond: busy > 0 ? (this.bytes * 1000) / busy : 0,
      rttMs: Number.isNaN(this.srttMs) ? undefined : this.srttMs,
      stalled: this.stalled(now, stallMinMs, unmeasuredMs),
      stalls: this.stalls,
    };
  }
}
