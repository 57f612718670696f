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
import { WantedOrder } from "./_order.ts";
import { type BlockAvailability, type Copy, PeerState } from "./_peer.ts";
import { type DupContext, endgame, lookAhead, rescueHead, rescueStalled } from "./_duplicates.ts";
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

const REASONS: ReadonlySet<string> = new Set(["timeout", "not-available", "busy", "error"]);

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
  readonly #rarest: boolean;
  readonly #rarityCap: number;
  readonly #queueDelayMs: number;
  readonly #stallMinMs: number;

  readonly #present: Uint8Array;
  #presentCount = 0;
  #prefix = 0;
  /** Peers that can serve each block (refusals and faults excluded). */
  readonly #avail: Uint16Array;
  /** Wanted blocks (missing, not in flight) that some peer can serve. */
  #wantedAvail = 0;
  readonly #order: WantedOrder;
  #orderDirty = true;
  /** Peers whose availability is not "all". */
  #partialPeers = 0;
  /** In-flight copies per block, in order of each block's first outstanding request. */
  readonly #inflight = new Map<number, Copy[]>();
  /** Every in-flight copy, oldest first. */
  readonly #timeline = new Set<Copy>();
  readonly #peers = new Map<string, PeerState>();
  #lastNow = -Infinity;
  #requests = 0;
  #duplicateRequests = 0;
  #duplicateArrivals = 0;
  #rescues = 0;

  /** Creates the scheduler; every block starts missing, no peer is known. */
  constructor(options: BlockSchedulerOptions) {
    const o = options;
    checkInt("blockCount", o.blockCount, 0, 2 ** 32 - 1);
    if (typeof o.now !== "function") {
      throw new SchedulerError(`BlockScheduler: now must be a function, got ${typeof o.now}`);
    }
    if (!(o.requestTimeoutMs > 0) || !Number.isFinite(o.requestTimeoutMs)) {
      throw new SchedulerError(
        `BlockScheduler: requestTimeoutMs must be a positive number, got ${o.requestTimeoutMs}`,
      );
    }
    const maxWindow = o.maxWindow ?? 64;
    checkInt("maxWindow", maxWindow, 1, 65536);
    const initialWindow = o.initialWindow ?? Math.min(4, maxWindow);
    checkInt("initialWindow", initialWindow, 1, maxWindow);
    const dup = o.endgameDuplicates ?? 2;
    checkInt("endgameDuplicates", dup, 0, 16);
    const queueDelay = o.maxQueueDelayMs ?? 500;
    const rarityCap = o.rarityCap ?? 3;
    if (!(rarityCap >= 2) || (Number.isFinite(rarityCap) && !Number.isInteger(rarityCap))) {
      throw new SchedulerError(
        `BlockScheduler: rarityCap must be an integer >= 2 or Infinity, got ${rarityCap}`,
      );
    }
    if (!(queueDelay > 0)) {
      throw new SchedulerError(
        `BlockScheduler: maxQueueDelayMs must be positive (Infinity disables it), got ${queueDelay}`,
      );
    }
    const stallMin = o.stallMinMs ?? Math.min(2000, o.requestTimeoutMs / 4);
    if (!(stallMin >= 0)) {
      throw new SchedulerError(
        `BlockScheduler: stallMinMs must be >= 0 (Infinity disables it), got ${stallMin}`,
      );
    }
    this.blockCount = o.blockCount;
    this.#stallMinMs = stallMin;
    this.#clock = o.now;
    this.#timeoutMs = o.requestTimeoutMs;
    this.#initialWindow = initialWindow;
    this.#maxWindow = maxWindow;
    this.#dup = dup;
    this.#rarest = o.rarestFirst ?? true;
    this.#rarityCap = rarityCap;
    this.#queueDelayMs = queueDelay;
    this.#present = new Uint8Array(o.blockCount);
    this.#avail = new Uint16Array(o.blockCount);
    if (o.tieSeed !== undefined && !Number.isInteger(o.tieSeed)) {
      throw new SchedulerError(`BlockScheduler: tieSeed must be an integer, got ${o.tieSeed}`);
    }
    this.#order = new WantedOrder(o.blockCount, !(o.preferInOrder ?? true), o.tieSeed);
  }

  // ---------------------------------------------------------------- peers

  /** Adds a peer that can serve `have` ("all": a full seeder). */
  addPeer(peer: string, have: BlockAvailability | "all"): void {
    if (typeof peer !== "string" || peer === "") {
      throw new SchedulerError(`addPeer(): peer must be a non-empty string, got ${String(peer)}`);
    }
    if (this.#peers.has(peer)) {
      throw new SchedulerError(`addPeer(): peer ${JSON.stringify(peer)} was already added`);
    }
    if (this.#peers.size >= 0xffff) {
      throw new SchedulerError(`addPeer(): at most 65535 peers per download`);
    }
    this.#checkHave("addPeer", peer, have);
    const p = new PeerState(peer, have, this.#initialWindow, this.#maxWindow);
    this.#peers.set(peer, p);
    this.#countPartial(have, 1);
    this.#forEachServed(p, (i) => this.#incAvail(i));
  }

  /** Replaces a peer's availability (a new manifest); forgets the blocks it said it lacked. */
  updateHave(peer: string, have: BlockAvailability | "all"): void {
    const p = this.#peer("updateHave", peer);
    this.#checkHave("updateHave", peer, have);
    this.#forEachServed(p, (i) => this.#decAvail(i));
    this.#countPartial(p.have, -1);
    this.#countPartial(have, 1);
    p.have = have;
    p.lacks.clear();
    this.#forEachServed(p, (i) => this.#incAvail(i));
  }

  /** Removes a peer; its blocks in flight go back to the queue. Returns the requeued indexes. */
  removePeer(peer: string): number[] {
    const p = this.#peer("removePeer", peer);
    const now = this.#now();
    const requeued: number[] = [];
    for (const c of [...p.inflight.values()]) {
      if (this.#drop(c, now)) requeued.push(c.index);
    }
    this.#forEachServed(p, (i) => this.#decAvail(i));
    this.#countPartial(p.have, -1);
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
    this.#checkIndex("markPresent", index);
    if (this.#present[index]) return { duplicateAt: [] };
    return { duplicateAt: this.#complete(index, this.#now(), undefined) };
  }

  /** Whether block `index` is present. */
  isPresent(index: number): boolean {
    this.#checkIndex("isPresent", index);
    return this.#present[index] === 1;
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
    const out: number[] = [];
    if (this.done) return out;
    if (this.#stalled(p, now)) return out;
    const free = Math.min(max, p.effectiveWindow(this.#queueDelayMs) - p.inflight.size);
    if (free <= 0) return out;
    const ctx = this.#ctx(now);
    if (this.#dup > 0) {
      this.#rescues += rescueStalled(ctx, p, now, free, out);
      this.#rescues += rescueHead(ctx, p, now, free, out);
    }
    if (this.#wantedAvail > 0 && out.length < free) {
      if (this.#orderDirty) this.#rebuildOrder();
      // A peer slower to deliver than the fastest takes blocks the stream reaches later.
      const from = lookAhead(ctx, p, now);
      const take = (i: number) => {
        if (!p.serves(i)) return false;
        this.#dispatch(p, i, now);
        out.push(i);
        return out.length >= free;
      };
      // Blocks no other peer can serve are never skipped.
      this.#order.scan((i) => (i >= from || this.#avail[i]! <= 1) && take(i));
      // Not enough past the look-ahead: the wanted blocks the stream needs last.
      if (from > this.#prefix && out.length < free && this.#wantedAvail > 0) {
        this.#order.scanReverse((i) => i < from && take(i));
      }
    }
    if (out.length < free && this.#wantedAvail === 0 && this.#dup > 0) {
      endgame(ctx, p, now, free, out);
    }
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
    this.#checkIndex("received", index, peer);
    checkBytes("received", bytes);
    const now = this.#now();
    const c = p.inflight.get(index);
    p.bytes += bytes;
    p.consecutiveTimeouts = 0;
    p.heard(now);
    if (c) {
      p.sample(c.sentAt, now);
      p.window.increase(p.queueCap(this.#queueDelayMs));
    }
    if (this.#present[index]) {
      if (c) this.#drop(c, now);
      p.duplicates++;
      this.#duplicateArrivals++;
      return { fresh: false, duplicateAt: [] };
    }
    p.received++;
    return { fresh: true, duplicateAt: this.#complete(index, now, p) };
  }

  /**
   * Block `index` from `peer` failed verification: it goes back to the queue,
   * the peer's window is halved, a fault is counted, and the peer is never
   * asked for this block again.
   */
  rejected(peer: string, index: number): void {
    const p = this.#peer("rejected", peer);
    this.#checkIndex("rejected", index, peer);
    const now = this.#now();
    p.faults++;
    p.heard(now);
    this.#exclude(p, index, p.faulted);
    const c = p.inflight.get(index);
    if (c) this.#drop(c, now);
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
    this.#checkIndex("failed", index, peer);
    if (!REASONS.has(reason)) {
      throw new SchedulerError(
        `failed(): reason must be one of ${[...REASONS].join(", ")}, got ${JSON.stringify(reason)}`,
      );
    }
    const now = this.#now();
    const c = p.inflight.get(index);
    if (reason !== "timeout") p.heard(now);
    switch (reason) {
      case "timeout":
        if (c) {
          p.timeouts++;
          p.consecutiveTimeouts++;
          p.window.decrease();
        }
        break;
      case "busy":
        if (c) {
          p.busy++;
          p.window.decrease();
        }
        break;
      case "not-available":
        p.notAvailable++;
        this.#exclude(p, index, p.lacks);
        break;
      case "error":
        p.errors++;
        this.#exclude(p, index, p.lacks);
        break;
    }
    if (c) this.#drop(c, now);
    return c !== undefined;
  }

  /** Requests in flight for at least `requestTimeoutMs`, oldest first; call `failed(…, "timeout")` for each. */
  expired(): ExpiredRequest[] {
    const now = this.#now();
    const out: ExpiredRequest[] = [];
    for (const c of this.#timeline) {
      // The same expression as nextExpiry, so both agree to the last bit.
      if (c.sentAt + this.#timeoutMs > now) break;
      out.push({ peer: c.peer.id, index: c.index, sentAt: c.sentAt });
    }
    return out;
  }

  /** When the oldest request in flight expires (ms, clock time), or undefined if none is in flight. */
  get nextExpiry(): number | undefined {
    for (const c of this.#timeline) return c.sentAt + this.#timeoutMs;
    return undefined;
  }

  /** Block indexes in flight at `peer`, oldest first. */
  inFlightAt(peer: string): number[] {
    return [...this.#peer("inFlightAt", peer).inflight.keys()];
  }

  // ---------------------------------------------------------------- state

  /** True when every block is present. */
  get done(): boolean {
    return this.#presentCount === this.blockCount;
  }

  /** Blocks still missing. */
  get remaining(): number {
    return this.blockCount - this.#presentCount;
  }

  /** Number of leading present blocks: what can be streamed to the consumer. */
  get contiguousPrefix(): number {
    return this.#prefix;
  }

  /** True when every missing block that some peer can serve is in flight. */
  get endgame(): boolean {
    return !this.done && this.#wantedAvail === 0 && this.#inflight.size > 0;
  }

  /**
   * Missing blocks that no peer can serve and none is fetching. Non-empty with
   * `stuck` true means the download cannot finish with the current peers.
   */
  unavailable(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.blockCount; i++) {
      if (!this.#present[i] && this.#avail[i] === 0 && !this.#inflight.has(i)) out.push(i);
    }
    return out;
  }

  /** True when blocks are missing, nothing is in flight and nothing can be requested. */
  get stuck(): boolean {
    return !this.done && this.#inflight.size === 0 && this.#wantedAvail === 0;
  }

  /** Counters of one peer. */
  peerStats(peer: string): PeerStats {
    return this.#stats(this.#peer("peerStats", peer), this.#now());
  }

  /** Download-wide counters and every peer's. */
  stats(): SchedulerStats {
    const now = this.#now();
    return {
      blockCount: this.blockCount,
      present: this.#presentCount,
      contiguousPrefix: this.#prefix,
      inFlight: this.#timeline.size,
      requests: this.#requests,
      duplicateRequests: this.#duplicateRequests,
      duplicateArrivals: this.#duplicateArrivals,
      rescues: this.#rescues,
      endgame: this.endgame,
      peers: [...this.#peers.values()].map((p) => this.#stats(p, now)),
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

  #checkIndex(call: string, index: number, peer?: string): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.blockCount) {
      const from = peer === undefined ? "" : ` from peer ${JSON.stringify(peer)}`;
      throw new SchedulerError(
        `${call}(): block index ${index}${from} out of range [0, ${this.blockCount})`,
      );
    }
  }

  #checkHave(call: string, peer: string, have: BlockAvailability | "all"): void {
    if (have === "all") return;
    if (typeof have !== "object" || have === null || typeof have.get !== "function") {
      throw new SchedulerError(
        `${call}(): availability of peer ${
          JSON.stringify(peer)
        } must be "all" or have get(i), got ${String(have)}`,
      );
    }
    if (typeof have.size === "number" && have.size !== this.blockCount) {
      throw new SchedulerError(
        `${call}(): availability of peer ${
          JSON.stringify(peer)
        } has ${have.size} bits, expected ${this.blockCount} (the block count)`,
      );
    }
  }

  #wanted(i: number): boolean {
    return this.#present[i] === 0 && !this.#inflight.has(i);
  }

  #forEachServed(p: PeerState, fn: (i: number) => void): void {
    const have = p.have;
    const n = this.blockCount;
    const visit = (i: number) => {
      if (!p.lacks.has(i) && !p.faulted.has(i)) fn(i);
    };
    if (have === "all") {
      for (let i = 0; i < n; i++) visit(i);
    } else if (typeof have.nextSet === "function") {
      for (let i = n > 0 ? have.nextSet(0) : -1; i !== -1 && i < n; i = have.nextSet(i + 1)) {
        visit(i);
        if (i + 1 >= n) break;
      }
    } else {
      for (let i = 0; i < n; i++) if (have.get(i)) visit(i);
    }
  }

  #incAvail(i: number): void {
    const a = this.#avail[i]!;
    this.#avail[i] = a + 1;
    if (a === 0 && this.#wanted(i)) this.#wantedAvail++;
    if (a === 0 || (this.#rarest && a < this.#rarityCap)) this.#orderDirty = true;
  }

  #decAvail(i: number): void {
    const a = this.#avail[i]! - 1;
    this.#avail[i] = a;
    if (a === 0 && this.#wanted(i)) this.#wantedAvail--;
    if (a === 0 || (this.#rarest && a < this.#rarityCap)) this.#orderDirty = true;
  }

  /** Adds `index` to one of the peer's exclusion sets, updating availability. */
  #exclude(p: PeerState, index: number, set: Set<number>): void {
    const counted = p.serves(index);
    set.add(index);
    if (counted) this.#decAvail(index);
  }

  /** Counts partial peers; the tie order changes when the first one comes or the last one goes. */
  #countPartial(have: BlockAvailability | "all", delta: 1 | -1): void {
    if (have === "all") return;
    const before = this.#partialPeers;
    this.#partialPeers += delta;
    if ((before === 0) !== (this.#partialPeers === 0)) this.#orderDirty = true;
  }

  #rebuildOrder(): void {
    this.#order.rebuild(
      this.#avail,
      (i) => this.#wanted(i),
      this.#rarest ? this.#rarityCap : 1,
      this.#partialPeers > 0,
    );
    this.#orderDirty = false;
  }

  /** Stall detection; flags the peer (window back to 1) the first time. */
  #stalled(p: PeerState, now: number): boolean {
    if (!p.stalled(now, this.#stallMinMs, this.#timeoutMs / 4)) return false;
    if (!p.stallFlag) {
      p.stallFlag = true;
      p.stalls++;
      p.window.collapse();
    }
    return true;
  }

  /** The view of this scheduler that the duplicate policies work on. */
  #ctx(now: number): DupContext {
    return {
      blockCount: this.blockCount,
      dup: this.#dup,
      timeoutMs: this.#timeoutMs,
      stallMinMs: this.#stallMinMs,
      present: this.#present,
      inflight: this.#inflight,
      peers: () => this.#peers.values(),
      prefix: () => this.#prefix,
      wanted: (i) => this.#wanted(i),
      stalled: (q, t) => this.#stalled(q, t),
      dispatch: (q, i) => this.#dispatch(q, i, now),
    };
  }

  #dispatch(p: PeerState, i: number, now: number): void {
    let copies = this.#inflight.get(i);
    if (!copies) {
      copies = [];
      this.#inflight.set(i, copies);
      this.#order.remove(i);
      if (this.#avail[i]! > 0) this.#wantedAvail--;
    } else {
      this.#duplicateRequests++;
    }
    const c: Copy = { peer: p, index: i, sentAt: now };
    copies.push(c);
    if (p.inflight.size === 0) p.busySince = now;
    p.inflight.set(i, c);
    this.#timeline.add(c);
    p.requested++;
    this.#requests++;
  }

  /** Withdraws one in-flight copy; returns true if the block went back to the queue. */
  #drop(c: Copy, now: number): boolean {
    const p = c.peer;
    p.inflight.delete(c.index);
    this.#timeline.delete(c);
    if (p.inflight.size === 0) p.busyMs += now - p.busySince;
    const copies = this.#inflight.get(c.index)!;
    copies.splice(copies.indexOf(c), 1);
    if (copies.length > 0) return false;
    this.#inflight.delete(c.index);
    if (this.#present[c.index]) return false;
    this.#order.add(c.index);
    if (this.#avail[c.index]! > 0) this.#wantedAvail++;
    return true;
  }

  /** Marks `index` present; withdraws its copies; returns the peers other than `by` to cancel. */
  #complete(index: number, now: number, by: PeerState | undefined): string[] {
    if (this.#wanted(index)) {
      this.#order.remove(index);
      if (this.#avail[index]! > 0) this.#wantedAvail--;
    }
    this.#present[index] = 1;
    this.#presentCount++;
    while (this.#prefix < this.blockCount && this.#present[this.#prefix]) this.#prefix++;
    const cancel: string[] = [];
    const copies = this.#inflight.get(index);
    if (!copies) return cancel;
    for (const c of [...copies]) {
      this.#drop(c, now);
      if (c.peer !== by) {
        c.peer.cancelled++;
        if (c.peer.stallFlag) {
          // Superseded while the peer is stalled: a timeout decided by the stall guard.
          c.peer.timeouts++;
          c.peer.consecutiveTimeouts++;
        }
        cancel.push(c.peer.id);
      }
    }
    return cancel;
  }

  #stats(p: PeerState, now: number): PeerStats {
    const busy = p.busyMs + (p.inflight.size > 0 ? now - p.busySince : 0);
    return {
      peer: p.id,
      window: p.effectiveWindow(this.#queueDelayMs),
      inFlight: p.inflight.size,
      requested: p.requested,
      received: p.received,
      duplicates: p.duplicates,
      faults: p.faults,
      timeouts: p.timeouts,
      consecutiveTimeouts: p.consecutiveTimeouts,
      notAvailable: p.notAvailable,
      busy: p.busy,
      errors: p.errors,
      cancelled: p.cancelled,
      bytes: p.bytes,
      bytesPerSecond: busy > 0 ? (p.bytes * 1000) / busy : 0,
      rttMs: Number.isNaN(p.srttMs) ? undefined : p.srttMs,
      stalled: p.stalled(now, this.#stallMinMs, this.#timeoutMs / 4),
      stalls: p.stalls,
    };
  }
}

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SchedulerError(
      `BlockScheduler: ${name} must be an integer in [${min}, ${max}], got ${value}`,
    );
  }
}

function checkBytes(call: string, bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new SchedulerError(`${call}(): bytes must be a non-negative integer, got ${bytes}`);
  }
}
