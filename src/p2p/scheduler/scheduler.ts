/**
 * The block scheduler of one NAR download from several peers at once. It
 * decides which block indexes to ask which peer for; the caller does the
 * networking, verifies blocks, and reports back. Pure: time comes from the
 * injected `now` (milliseconds, non-decreasing), nothing runs by itself.
 *
 * Policy:
 * - every peer works in parallel, within its own window of requests in flight
 *   (AIMD: slow start, then +1 per window of arrivals; halved on timeout,
 *   busy or bad block), capped so that a peer's queue holds at most
 *   `maxQueueDelayMs` of work beyond its minimum round trip at its measured
 *   rate;
 * - wanted blocks go out rarest first (held by the fewest peers; counts from
 *   `rarityCap` up are equal), ties in index order, so with full seeders the
 *   download runs in order and the contiguous verified prefix, which streams
 *   to the consumer, advances steadily; while a partial peer (a leecher) is
 *   known, ties go in an order shuffled by the download's `tieSeed`, so that
 *   leechers of one swarm hold different blocks to trade; a peer that
 *   delivers later than the quickest one by Δ starts looking `Δ × total
 *   rate` blocks past the prefix
 *   (lower blocks if there are none), so its blocks arrive about when the
 *   stream needs them;
 * - failed, timed-out and rejected requests go back to the queue; a peer is
 *   never asked again for a block it sent bad data for, nor for one it said it
 *   lacks until its availability is updated;
 * - stall guard: a peer with requests outstanding that has been silent for
 *   much longer than usual (`stallMinMs`, 8 inter-arrival gaps, 2 round
 *   trips) gets no new work, and its outstanding blocks may be requested
 *   from other peers right away (up to `endgameDuplicates` extra copies),
 *   lowest index first, instead of holding the streamed prefix back until
 *   the request timeout;
 * - head-of-line rescue: the first few missing blocks past the streamed
 *   prefix, held by a peer expected to deliver them much later than another
 *   one could, are duplicated there (same rule as the endgame below), so one
 *   slow peer does not hold the stream back until the endgame;
 * - endgame: once every missing block that some peer can serve is in flight,
 *   a peer with room in its window gets duplicates of the oldest outstanding
 *   requests (at most `endgameDuplicates` extra copies per block) that it is
 *   expected to deliver sooner than their holders (from each peer's minimum
 *   round trip, inter-arrival gap and queue; overdue requests are expected as
 *   late again; unmeasured peers are assumed able); the first arrival wins and
 *   the others are returned for CANCEL;
 * - a block is never in flight twice at the same peer.
 *
 * @example
 * ```ts
 * import { BlockScheduler } from "./scheduler.ts";
 * let t = 0;
 * const s = new BlockScheduler({ blockCount: 8, now: () => t, requestTimeoutMs: 20_000 });
 * s.addPeer("a", "all");
 * s.addPeer("b", "all");
 * s.next("a"); // [0, 1, 2, 3]
 * s.next("b"); // [4, 5, 6, 7]
 * t += 50;
 * s.received("a", 0).duplicateAt; // []
 * s.contiguousPrefix; // 1
 * ```
 * @module
 */
import { SchedulerError, UnknownPeerError } from "./errors.ts";
import { BlockBook } from "./_blocks.ts";
import {
  checkBytes,
  checkHave,
  checkIndex,
  checkPeerId,
  checkReason,
  schedulerSettings,
} from "./_checks.ts";
import type { DupContext } from "./_duplicates.ts";
import { Flights } from "./_flight.ts";
import { type BlockAvailability, PeerState } from "./_peer.ts";
import { selectBlocks } from "./_select.ts";
import type {
  BlockSchedulerOptions,
  ExpiredRequest,
  FailureReason,
  PeerStats,
  ReceivedResult,
  SchedulerStats,
} from "./types.ts";

export type { BlockAvailability } from "./_peer.ts";
export type {
  BlockSchedulerOptions,
  ExpiredRequest,
  FailureReason,
  PeerStats,
  ReceivedResult,
  SchedulerStats,
} from "./types.ts";

/**
 * Schedules the blocks of one NAR across peers. See the module documentation
 * for the policy.
 *
 * @example
 * ```ts
 * import { BlockScheduler } from "./scheduler.ts";
 * let t = 0;
 * const s = new BlockScheduler({ blockCount: 3, now: () => t, requestTimeoutMs: 1000 });
 * s.addPeer("a", { get: (i) => i !== 2 });
 * s.next("a"); // [0, 1]
 * s.unavailable(); // [2]: nobody has block 2
 * t = 1000;
 * s.expired(); // [{ peer: "a", index: 0, sentAt: 0 }, { peer: "a", index: 1, sentAt: 0 }]
 * ```
 */
export class BlockScheduler {
  /** Number of blocks of the NAR. */
  readonly blockCount: number;
  readonly #clock: () => number;
  readonly #timeoutMs: number;
  readonly #initialWindow: number;
  readonly #maxWindow: number;
  readonly #dup: number;
  readonly #queueDelayMs: number;
  readonly #stallMinMs: number;
  /** Presence, availability, requests in flight and the order of the wanted blocks. */
  readonly #blocks: BlockBook;
  /** Every copy in flight, oldest first (for timeouts), and the request counters. */
  readonly #flights: Flights;
  readonly #peers = new Map<string, PeerState>();
  #lastNow = -Infinity;
  #duplicateArrivals = 0;
  #rescues = 0;

  /** Creates the scheduler; every block starts missing, no peer is known. */
  constructor(options: BlockSchedulerOptions) {
    const o = schedulerSettings(options);
    this.blockCount = o.blockCount;
    this.#clock = o.now;
    this.#timeoutMs = o.requestTimeoutMs;
    this.#initialWindow = o.initialWindow;
    this.#maxWindow = o.maxWindow;
    this.#dup = o.endgameDuplicates;
    this.#queueDelayMs = o.maxQueueDelayMs;
    this.#stallMinMs = o.stallMinMs;
    this.#blocks = new BlockBook(o.blockCount, {
      rarest: o.rarestFirst,
      rarityCap: o.rarityCap,
      inOrder: o.preferInOrder,
      tieSeed: o.tieSeed,
    });
    this.#flights = new Flights(this.#blocks);
  }

  // ---------------------------------------------------------------- peers

  /** Adds a peer that can serve `have` ("all": a full seeder). */
  addPeer(peer: string, have: BlockAvailability | "all"): void {
    checkPeerId(peer);
    if (this.#peers.has(peer)) {
      throw new SchedulerError(`addPeer(): peer ${JSON.stringify(peer)} was already added`);
    }
    if (this.#peers.size >= 0xffff) {
      throw new SchedulerError(`addPeer(): at most 65535 peers per download`);
    }
    checkHave("addPeer", peer, have, this.blockCount);
    const p = new PeerState(peer, have, this.#initialWindow, this.#maxWindow);
    this.#peers.set(peer, p);
    this.#blocks.peerAdded(p);
  }

  /** Replaces a peer's availability (a new manifest); forgets the blocks it said it lacked. */
  updateHave(peer: string, have: BlockAvailability | "all"): void {
    const p = this.#peer("updateHave", peer);
    checkHave("updateHave", peer, have, this.blockCount);
    this.#blocks.haveChanged(p, have);
  }

  /** Removes a peer; its blocks in flight go back to the queue. Returns the requeued indexes. */
  removePeer(peer: string): number[] {
    const p = this.#peer("removePeer", peer);
    const now = this.#now();
    const requeued: number[] = [];
    for (const c of [...p.inflight.values()]) {
      if (this.#flights.drop(c, now)) requeued.push(c.index);
    }
    this.#blocks.peerRemoved(p);
    this.#peers.delete(peer);
    return requeued;
  }

  /** Whether `peer` is known. */
  hasPeer(peer: string): boolean {
    return this.#peers.has(peer);
  }

  /** The known peers, in the order they were added. */
  get peers(): string[] {
    return [...this.#peers.keys()];
  }

  // ---------------------------------------------------------------- blocks

  /**
   * Records a block already present (on disk when resuming, or obtained
   * elsewhere). Returns the peers that had it in flight, to CANCEL.
   */
  markPresent(index: number): { duplicateAt: string[] } {
    checkIndex("markPresent", index, this.blockCount);
    if (this.#blocks.present[index]) return { duplicateAt: [] };
    return { duplicateAt: this.#flights.complete(index, this.#now(), undefined) };
  }

  /** Whether block `index` is present. */
  isPresent(index: number): boolean {
    checkIndex("isPresent", index, this.blockCount);
    return this.#blocks.present[index] === 1;
  }

  /**
   * Block indexes to request from `peer` now (at most `max`, default 256, the
   * protocol's limit per GET_BLOCKS), marked in flight. Empty when the peer's
   * window is full or it can serve nothing wanted.
   */
  next(peer: string, max = 256): number[] {
    const p = this.#peer("next", peer);
    if (!Number.isInteger(max) || max < 0) {
      throw new SchedulerError(`next(): max must be a non-negative integer, got ${max}`);
    }
    const now = this.#now();
    if (this.done) return [];
    if (this.#stalled(p, now)) return [];
    const free = Math.min(max, p.effectiveWindow(this.#queueDelayMs) - p.inflight.size);
    if (free <= 0) return [];
    const { out, rescues } = selectBlocks(this.#ctx(now), this.#blocks, p, now, free);
    this.#rescues += rescues;
    return out;
  }

  /**
   * Block `index` arrived from `peer` and the caller verified it. Records it,
   * grows the peer's window, and returns the other peers that still have it in
   * flight (to CANCEL). A block arriving after its request timed out is still
   * accepted. `bytes` (optional) feeds the peer's throughput figure.
   */
  received(peer: string, index: number, bytes = 0): ReceivedResult {
    const p = this.#peer("received", peer);
    checkIndex("received", index, this.blockCount, peer);
    checkBytes("received", bytes);
    const now = this.#now();
    const c = p.inflight.get(index);
    p.arrived(c?.sentAt, bytes, now, this.#queueDelayMs);
    if (this.#blocks.present[index]) {
      if (c) this.#flights.drop(c, now);
      p.duplicates++;
      this.#duplicateArrivals++;
      return { fresh: false, duplicateAt: [] };
    }
    p.received++;
    return { fresh: true, duplicateAt: this.#flights.complete(index, now, p) };
  }

  /**
   * Block `index` from `peer` failed verification: it goes back to the queue,
   * the peer's window is halved, a fault is counted, and the peer is never
   * asked for this block again.
   */
  rejected(peer: string, index: number): void {
    const p = this.#peer("rejected", peer);
    checkIndex("rejected", index, this.blockCount, peer);
    const now = this.#now();
    p.faults++;
    p.heard(now);
    this.#blocks.exclude(p, index, p.faulted);
    const c = p.inflight.get(index);
    if (c) this.#flights.drop(c, now);
    p.window.decrease();
  }

  /**
   * The request of block `index` at `peer` failed. It goes back to the queue.
   * `timeout` and `busy` halve the peer's window; `not-available` and `error`
   * mark the block as lacking at that peer until `updateHave()`. Returns false
   * (and changes no window) when that request was no longer in flight.
   */
  failed(peer: string, index: number, reason: FailureReason): boolean {
    const p = this.#peer("failed", peer);
    checkIndex("failed", index, this.blockCount, peer);
    checkReason(reason);
    const now = this.#now();
    const c = p.inflight.get(index);
    if (p.countFailure(reason, c !== undefined, now)) this.#blocks.exclude(p, index, p.lacks);
    if (c) this.#flights.drop(c, now);
    return c !== undefined;
  }

  /** Requests in flight for at least `requestTimeoutMs`, oldest first; call `failed(…, "timeout")` for each. */
  expired(): ExpiredRequest[] {
    return this.#flights.expired(this.#now(), this.#timeoutMs);
  }

  /** When the oldest request in flight expires (ms, clock time), or undefined if none is in flight. */
  get nextExpiry(): number | undefined {
    return this.#flights.nextExpiry(this.#timeoutMs);
  }

  /** Block indexes in flight at `peer`, oldest first. */
  inFlightAt(peer: string): number[] {
    return [...this.#peer("inFlightAt", peer).inflight.keys()];
  }

  // ---------------------------------------------------------------- state

  /** True when every block is present. */
  get done(): boolean {
    return this.#blocks.presentCount === this.blockCount;
  }

  /** Blocks still missing. */
  get remaining(): number {
    return this.blockCount - this.#blocks.presentCount;
  }

  /** Number of leading present blocks: what can be streamed to the consumer. */
  get contiguousPrefix(): number {
    return this.#blocks.prefix;
  }

  /** True when every missing block that some peer can serve is in flight. */
  get endgame(): boolean {
    return !this.done && this.#blocks.wantedAvail === 0 && this.#blocks.inflight.size > 0;
  }

  /**
   * Missing blocks that no peer can serve and none is fetching. Non-empty with
   * `stuck` true means the download cannot finish with the current peers.
   */
  unavailable(): number[] {
    return this.#blocks.unavailable();
  }

  /** True when blocks are missing, nothing is in flight and nothing can be requested. */
  get stuck(): boolean {
    return !this.done && this.#blocks.inflight.size === 0 && this.#blocks.wantedAvail === 0;
  }

  /** Counters of one peer. */
  peerStats(peer: string): PeerStats {
    return this.#peer("peerStats", peer).stats(
      this.#now(),
      this.#queueDelayMs,
      this.#stallMinMs,
      this.#timeoutMs / 4,
    );
  }

  /** Download-wide counters and every peer's. */
  stats(): SchedulerStats {
    const now = this.#now();
    return {
      blockCount: this.blockCount,
      present: this.#blocks.presentCount,
      contiguousPrefix: this.#blocks.prefix,
      inFlight: this.#flights.size,
      requests: this.#flights.requests,
      duplicateRequests: this.#flights.duplicateRequests,
      duplicateArrivals: this.#duplicateArrivals,
      rescues: this.#rescues,
      endgame: this.endgame,
      peers: [...this.#peers.values()].map((p) =>
        p.stats(now, this.#queueDelayMs, this.#stallMinMs, this.#timeoutMs / 4)
      ),
    };
  }

  // ---------------------------------------------------------------- internals

  #now(): number {
    const t = this.#clock();
    if (t > this.#lastNow) this.#lastNow = t;
    return this.#lastNow;
  }

  #peer(call: string, peer: string): PeerState {
    const p = this.#peers.get(peer);
    if (!p) throw new UnknownPeerError(call, peer);
    return p;
  }

  /** Stall detection; flags the peer (window back to 1) the first time. */
  #stalled(p: PeerState, now: number): boolean {
    return p.stallGuard(now, this.#stallMinMs, this.#timeoutMs / 4);
  }

  /** The view of this scheduler that the duplicate policies work on. */
  #ctx(now: number): DupContext {
    return {
      blockCount: this.blockCount,
      dup: this.#dup,
      timeoutMs: this.#timeoutMs,
      stallMinMs: this.#stallMinMs,
      present: this.#blocks.present,
      inflight: this.#blocks.inflight,
      peers: () => this.#peers.values(),
      prefix: () => this.#blocks.prefix,
      wanted: (i) => this.#blocks.wanted(i),
      stalled: (q, t) => this.#stalled(q, t),
      dispatch: (q, i) => this.#flights.dispatch(q, i, now),
    };
  }
}
