/**
 * The requests in flight of one download: each copy of a block sent to a
 * peer, in the order sent (for timeouts), with the request counters. Sending,
 * withdrawing and completing a block keep the peer's in-flight map, its busy
 * time and the {@linkcode BlockBook}'s queue consistent.
 *
 * @example
 * ```ts
 * import { Flights } from "./_flight.ts";
 * import { BlockBook } from "./_blocks.ts";
 * import { PeerState } from "./_peer.ts";
 * const blocks = new BlockBook(4, { rarest: true, rarityCap: 3, inOrder: true });
 * const flights = new Flights(blocks);
 * const a = new PeerState("a", "all", 4, 64);
 * blocks.peerAdded(a);
 * flights.dispatch(a, 0, 0);
 * flights.expired(1000, 1000); // [{ peer: "a", index: 0, sentAt: 0 }]
 * ```
 * @module
 */
import type { BlockBook } from "./_blocks.ts";
import type { Copy, PeerState } from "./_peer.ts";
import type { ExpiredRequest } from "./types.ts";

/**
 * Every copy in flight, oldest first, and the requests sent so far.
 *
 * @example
 * ```ts
 * import { Flights } from "./_flight.ts";
 * import { BlockBook } from "./_blocks.ts";
 * import { PeerState } from "./_peer.ts";
 * const blocks = new BlockBook(2, { rarest: true, rarityCap: 3, inOrder: true });
 * const flights = new Flights(blocks);
 * const a = new PeerState("a", "all", 4, 64);
 * blocks.peerAdded(a);
 * flights.dispatch(a, 1, 0);
 * flights.complete(1, 10, undefined); // ["a"]: cancel it there
 * ```
 */
export class Flights {
  /** Requests sent, duplicates included. */
  requests = 0;
  /** Requests for a block already in flight elsewhere. */
  duplicateRequests = 0;
  readonly #blocks: BlockBook;
  /** Every copy in flight, oldest first. */
  readonly #timeline = new Set<Copy>();

  /** Tracks the requests of the blocks in `blocks`. */
  constructor(blocks: BlockBook) {
    this.#blocks = blocks;
  }

  /** Copies in flight. */
  get size(): number {
    return this.#timeline.size;
  }

  /** Marks block `i` in flight at `p`, sent at `now`. */
  dispatch(p: PeerState, i: number, now: number): void {
    const { copies, first } = this.#blocks.copiesFor(i);
    if (!first) this.duplicateRequests++;
    const c: Copy = { peer: p, index: i, sentAt: now };
    copies.push(c);
    if (p.inflight.size === 0) p.busySince = now;
    p.inflight.set(i, c);
    this.#timeline.add(c);
    p.requested++;
    this.requests++;
  }

  /** Withdraws one in-flight copy; returns true if the block went back to the queue. */
  drop(c: Copy, now: number): boolean {
    const p = c.peer;
    p.inflight.delete(c.index);
    this.#timeline.delete(c);
    if (p.inflight.size === 0) p.busyMs += now - p.busySince;
    const copies = this.#blocks.inflight.get(c.index)!;
    copies.splice(copies.indexOf(c), 1);
    return copies.length === 0 && this.#blocks.returned(c.index);
  }

  /** Marks `index` present; withdraws its copies; returns the peers other than `by` to cancel. */
  complete(index: number, now: number, by: PeerState | undefined): string[] {
    this.#blocks.completed(index);
    const cancel: string[] = [];
    const copies = this.#blocks.inflight.get(index);
    if (!copies) return cancel;
    for (const c of [...copies]) {
      this.drop(c, now);
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

  /** Requests in flight for at least `timeoutMs` at `now`, oldest first. */
  expired(now: number, timeoutMs: number): ExpiredRequest[] {
    const out: ExpiredRequest[] = [];
    for (const c of this.#timeline) {
      // The same expression as nextExpiry, so both agree to the last bit.
      if (c.sentAt + timeoutMs > now) break;
      out.push({ peer: c.peer.id, index: c.index, sentAt: c.sentAt });
    }
    return out;
  }

  /** When the oldest request in flight reaches `timeoutMs`, or undefined if none is in flight. */
  nextExpiry(timeoutMs: number): number | undefined {
    for (const c of this.#timeline) return c.sentAt + timeoutMs;
    return undefined;
  }
}
