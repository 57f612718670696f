/**
 * The block side of one download: which blocks are present (and the
 * contiguous prefix that streams to the consumer), which are in flight and
 * where, how many peers serve each, and the order in which wanted blocks go
 * out. The scheduler decides; this keeps the counts consistent.
 *
 * @example
 * ```ts
 * import { BlockBook } from "./_blocks.ts";
 * const book = new BlockBook(4, { rarest: true, rarityCap: 3, inOrder: true });
 * book.completed(0);
 * book.prefix; // 1
 * ```
 * @module
 */
import { WantedOrder } from "./_order.ts";
import type { BlockAvailability, Copy, PeerState } from "./_peer.ts";

/** The blocks of one download. */
export class BlockBook {
  /** Number of blocks. */
  readonly count: number;
  /** 1 for each present block. */
  readonly present: Uint8Array;
  /** Present blocks. */
  presentCount = 0;
  /** Leading present blocks. */
  prefix = 0;
  /** Copies in flight per block, in order of each block's first outstanding request. */
  readonly inflight = new Map<number, Copy[]>();
  /** Peers that serve each block. */
  readonly avail: Uint16Array;
  /** Wanted blocks (missing, not in flight) that some peer serves. */
  wantedAvail = 0;
  readonly #order: WantedOrder;
  #orderDirty = true;
  /** Peers with partial availability (leechers). */
  #partialPeers = 0;
  readonly #rarest: boolean;
  readonly #rarityCap: number;

  /** The blocks of a download of `count` blocks, none present. */
  constructor(
    count: number,
    options: { rarest: boolean; rarityCap: number; inOrder: boolean; tieSeed?: number | undefined },
  ) {
    this.count = count;
    this.present = new Uint8Array(count);
    this.avail = new Uint16Array(count);
    this.#rarest = options.rarest;
    this.#rarityCap = options.rarityCap;
    this.#order = new WantedOrder(count, !options.inOrder, options.tieSeed);
  }

  /** Missing and not in flight. */
  wanted(i: number): boolean {
    return this.present[i] === 0 && !this.inflight.has(i);
  }

  /** The order wanted blocks go out in, rebuilt when availability changed it. */
  order(): WantedOrder {
    if (this.#orderDirty) {
      this.#order.rebuild(
        this.avail,
        (i) => this.wanted(i),
        this.#rarest ? this.#rarityCap : 1,
        this.#partialPeers > 0,
      );
      this.#orderDirty = false;
    }
    return this.#order;
  }

  /** A peer joined: its blocks are served once more. */
  peerAdded(p: PeerState): void {
    this.#countPartial(p.have, 1);
    this.#forEachServed(p, (i) => this.#incAvail(i));
  }

  /** A peer left: its blocks are served once less. */
  peerRemoved(p: PeerState): void {
    this.#forEachServed(p, (i) => this.#decAvail(i));
    this.#countPartial(p.have, -1);
  }

  /** A peer's availability changed (a new manifest); it forgets what it said it lacked. */
  haveChanged(p: PeerState, have: BlockAvailability | "all"): void {
    this.#forEachServed(p, (i) => this.#decAvail(i));
    this.#countPartial(p.have, -1);
    this.#countPartial(have, 1);
    p.have = have;
    p.lacks.clear();
    this.#forEachServed(p, (i) => this.#incAvail(i));
  }

  /** Adds `index` to one of the peer's exclusion sets (lacks, faulted), updating availability. */
  exclude(p: PeerState, index: number, set: Set<number>): void {
    const counted = p.serves(index);
    set.add(index);
    if (counted) this.#decAvail(index);
  }

  /** The copies of block `i` in flight, created (and the block no longer wanted) for the first. */
  copiesFor(i: number): { copies: Copy[]; first: boolean } {
    let copies = this.inflight.get(i);
    if (copies) return { copies, first: false };
    copies = [];
    this.inflight.set(i, copies);
    this.#order.remove(i);
    if (this.avail[i]! > 0) this.wantedAvail--;
    return { copies, first: true };
  }

  /** Block `i` has no copy in flight any more; true if it is wanted again. */
  returned(i: number): boolean {
    this.inflight.delete(i);
    if (this.present[i]) return false;
    this.#order.add(i);
    if (this.avail[i]! > 0) this.wantedAvail++;
    return true;
  }

  /** Block `i` is present (its copies in flight are the caller's to withdraw). */
  completed(i: number): void {
    if (this.wanted(i)) {
      this.#order.remove(i);
      if (this.avail[i]! > 0) this.wantedAvail--;
    }
    this.present[i] = 1;
    this.presentCount++;
    while (this.prefix < this.count && this.present[this.prefix]) this.prefix++;
  }

  /** Missing blocks that no peer serves and none is fetching. */
  unavailable(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) {
      if (!this.present[i] && this.avail[i] === 0 && !this.inflight.has(i)) out.push(i);
    }
    return out;
  }

  #forEachServed(p: PeerState, fn: (i: number) => void): void {
    const have = p.have;
    const n = this.count;
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
    const a = this.avail[i]!;
    this.avail[i] = a + 1;
    if (a === 0 && this.wanted(i)) this.wantedAvail++;
    if (a === 0 || (this.#rarest && a < this.#rarityCap)) this.#orderDirty = true;
  }

  #decAvail(i: number): void {
    const a = this.avail[i]! - 1;
    this.avail[i] = a;
    if (a === 0 && this.wanted(i)) this.wantedAvail--;
    if (a === 0 || (this.#rarest && a < this.#rarityCap)) this.#orderDirty = true;
  }

  /** Counts partial peers; the tie order changes when the first one comes or the last one goes. */
  #countPartial(have: BlockAvailability | "all", delta: 1 | -1): void {
    if (have === "all") return;
    const before = this.#partialPeers;
    this.#partialPeers += delta;
    if ((before === 0) !== (this.#partialPeers === 0)) this.#orderDirty = true;
  }
}
