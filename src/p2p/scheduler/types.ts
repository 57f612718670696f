/**
 * Public types of the block scheduler: options, results and statistics.
 *
 * @example
 * ```ts
 * import type { BlockSchedulerOptions } from "./types.ts";
 * const options: BlockSchedulerOptions = { blockCount: 4, now: () => 0, requestTimeoutMs: 20_000 };
 * ```
 * @module
 */

/** Why a request failed (the caller maps wire replies and timeouts to these). */
export type FailureReason = "timeout" | "not-available" | "busy" | "error";

/** Options of `BlockScheduler`. */
export interface BlockSchedulerOptions {
  /** Number of blocks of the NAR (the manifest's `block_count`). */
  blockCount: number;
  /** The clock, in milliseconds; must not go backwards. */
  now: () => number;
  /** A request unanswered after this long is reported by `expired()`. */
  requestTimeoutMs: number;
  /** Window of a new peer, in blocks (default 4). */
  initialWindow?: number;
  /** Largest window, in blocks (default 64). */
  maxWindow?: number;
  /** Extra copies of one block that the endgame may request (default 2; 0 disables the endgame). */
  endgameDuplicates?: number;
  /** Ties of rarity go in index order (default true); false uses a fixed shuffled order. */
  preferInOrder?: boolean;
  /**
   * While some peer is partial (still downloading), break rarity ties by a
   * pseudo-random order seeded by this instead of index order. Give each
   * download its own seed: leechers that started together then fetch
   * different blocks from a common seeder and have blocks to give each other
   * (a flash crowd). With only full seeders the download stays in order, so
   * the verified prefix keeps streaming. Default: no seed (index order).
   */
  tieSeed?: number;
  /** Request blocks held by fewer peers first (default true); false: in order whatever the rarity. */
  rarestFirst?: boolean;
  /**
   * Availabilities at or above this count as equally common (default 3: blocks
   * held by one peer, then by two, then the rest in order); `Infinity` is
   * strict rarest-first. A cap keeps one partial peer among many seeders from
   * reordering the whole download away from the streamed prefix.
   */
  rarityCap?: number;
  /**
   * Cap a peer's window at the blocks it serves, at its measured rate, in its
   * minimum round trip plus this long (default 500 ms): enough to keep it busy,
   * not so much that its queue delays the streamed prefix and the endgame.
   * `Infinity` disables the cap.
   */
  maxQueueDelayMs?: number;
  /**
   * Least silence (ms) before a peer with requests outstanding counts as
   * stalled (default `min(2000, requestTimeoutMs / 4)`); `Infinity` disables
   * the stall guard. A peer whose round trip is not measured yet is given
   * `requestTimeoutMs / 4` at least.
   */
  stallMinMs?: number;
}

/** Result of `BlockScheduler.received`. */
export interface ReceivedResult {
  /** False when the block was already present (a duplicate arrival: nothing to write). */
  fresh: boolean;
  /** Other peers that had this block in flight: send them CANCEL. */
  duplicateAt: string[];
}

/** One request older than the timeout, from `BlockScheduler.expired`. */
export interface ExpiredRequest {
  peer: string;
  index: number;
  /** When it was handed out by `next()`. */
  sentAt: number;
}

/** Counters and estimates of one peer. */
export interface PeerStats {
  peer: string;
  /** Current window (blocks that may be in flight), after the queue-delay cap. */
  window: number;
  inFlight: number;
  /** Blocks handed out by `next()` to this peer (endgame duplicates included). */
  requested: number;
  /** First arrivals of a block from this peer. */
  received: number;
  /** Arrivals of a block that was already present. */
  duplicates: number;
  /** Bad blocks (`rejected`). */
  faults: number;
  timeouts: number;
  /** Timeouts since the last arrival from this peer. */
  consecutiveTimeouts: number;
  notAvailable: number;
  busy: number;
  errors: number;
  /** Requests withdrawn because another peer delivered first (the caller sent CANCEL). */
  cancelled: number;
  /** Bytes reported by the caller for this peer's arrivals (duplicates included). */
  bytes: number;
  /** `bytes` over the time the peer had requests in flight. */
  bytesPerSecond: number;
  /** Smoothed request round-trip time, if measured. */
  rttMs: number | undefined;
  /** Silent for too long with requests outstanding (see the stall guard). */
  stalled: boolean;
  /** Times the stall guard flagged the peer. */
  stalls: number;
}

/** Download-wide counters. */
export interface SchedulerStats {
  blockCount: number;
  present: number;
  contiguousPrefix: number;
  inFlight: number;
  /** Indexes handed out by `next()` (every decision). */
  requests: number;
  /** Of which duplicates of a block already in flight (endgame and rescues). */
  duplicateRequests: number;
  /** Of which rescues (blocks held by a stalled peer, or holding the prefix back at a slow one). */
  rescues: number;
  /** Arrivals of blocks already present. */
  duplicateArrivals: number;
  endgame: boolean;
  peers: PeerStats[];
}
