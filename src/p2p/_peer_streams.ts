/**
 * Streams a remote peer holds open on one of our protocols, for servers that
 * cap them per peer (the block server, the narinfo server).
 *
 * @example
 * ```ts
 * const streams = new PeerStreams();
 * if (streams.count(peer) >= max) return stream.abort(new Error("refused"));
 * streams.add(peer);
 * try { await serve(stream); } finally { streams.remove(peer); }
 * ```
 * @module
 */

/** Open streams per peer (peers with none are not kept). */
export class PeerStreams {
  #open = new Map<string, number>();

  /** Streams `peer` has open now. */
  count(peer: string): number {
    return this.#open.get(peer) ?? 0;
  }

  /** Counts one more stream of `peer`. */
  add(peer: string): void {
    this.#open.set(peer, this.count(peer) + 1);
  }

  /** One stream of `peer` ended. */
  remove(peer: string): void {
    const n = this.count(peer) - 1;
    if (n <= 0) this.#open.delete(peer);
    else this.#open.set(peer, n);
  }
}
