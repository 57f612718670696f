/**
 * What the daemon asks of the peer-to-peer layer about whole batches of
 * NARs: how many peers provide each (p2p-only `have`), and to start fetching
 * ahead what peers have, as soon as a closure's narinfos are known.
 *
 * @example
 * ```ts
 * import type { PeerIndex } from "./peers.ts";
 * const none: PeerIndex = {
 *   providers: (items) => Promise.resolve(items.map(() => 0)),
 *   prefetch() {},
 *   mismatch: () => Promise.resolve(false),
 * };
 * ```
 * @module
 */

/** One NAR of a batch. */
export interface PeerIndexItem {
  storePath: string;
  /** NarHash digest (32 bytes). */
  narHash: Uint8Array;
  narSize: number;
  /**
   * Base names of the items it refers to, when known: substitution goes in
   * dependency order, so this orders what is fetched ahead.
   */
  references?: readonly string[];
}

/** Batch questions to the peer-to-peer layer. */
export interface PeerIndex {
  /**
   * Providers of each NAR (same order): connected peers are asked first, one
   * round trip for the whole batch; with `dht`, the DHT for the rest.
   */
  providers(
    items: PeerIndexItem[],
    options: { dht: boolean; signal?: AbortSignal },
  ): Promise<number[]>;
  /** Starts fetching ahead what peers have (bounded; returns at once). */
  prefetch(items: PeerIndexItem[]): void;
  /**
   * A consumer found that a NAR from peers did not match its NarHash: the P2P
   * layer checks its copy itself and, if it is wrong, drops it and penalises
   * its sources. Resolves with whether it was wrong.
   */
  mismatch(narHash: Uint8Array): Promise<boolean>;
}
