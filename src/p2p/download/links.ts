/**
 * One {@linkcode PeerLink} per peer, opened on first use and kept while the
 * peer stays connected, so a closure of hundreds of items costs one stream
 * per peer instead of one per item and peer. Idle links close after
 * `idleMs`; a peer's link closes when its connection does.
 *
 * @example
 * ```ts
 * const links = new PeerLinks({ node: () => node, maxMessageSize, timeoutMs: 10_000 });
 * const link = await links.get(peerId);
 * await links.stop();
 * ```
 * @module
 */
import type { PeerId } from "@libp2p/interface";
import type { P2pNode } from "../node.ts";
import { LinkPool } from "../_link_pool.ts";
import { PeerLink } from "./peer_link.ts";
import type { BulkLanePolicy } from "../bulk_lane.ts";
import type { BulkDialer } from "./deno_bulk_dial.ts";

/** Options of {@linkcode PeerLinks}. */
export interface PeerLinksInit {
  node: () => P2pNode;
  maxMessageSize: number;
  /** Bound on opening a link. */
  timeoutMs: number;
  /** A link with no request for this long closes. Default 60 s. */
  idleMs?: number;
  /** A peer broke the protocol on its link (called once per link). */
  onFault?: (peer: string, error: Error) => void;
  /** Bulk lanes (docs/protocol.md §3.7): where, and how to dial them. None without. */
  bulk?: { policy: BulkLanePolicy; dial: BulkDialer };
  /** A peer whose bulk lane failed is not offered one again for this long. Default 10 min. */
  bulkRetryMs?: number;
}

/** The pool. */
export class PeerLinks {
  #pool: LinkPool<PeerLink>;
  #closedBytes = { direct: 0, relayed: 0, bulk: 0 };
  /** Peers whose bulk lane failed or carried bad data, and when they may have one again. */
  #noBulkUntil = new Map<string, number>();

  /** Creates the pool (call {@linkcode start} for idle clean-up). */
  constructor(init: PeerLinksInit) {
    this.#pool = new LinkPool<PeerLink>({
      open: (peerId, signal) => {
        const peer = peerId.toString();
        const bulkOk = (this.#noBulkUntil.get(peer) ?? 0) <= Date.now();
        if (bulkOk) this.#noBulkUntil.delete(peer);
        return PeerLink.open(init.node(), peerId, {
          maxMessageSize: init.maxMessageSize,
          timeoutMs: init.timeoutMs,
          signal,
          bulk: bulkOk ? init.bulk : undefined,
        });
      },
      ...(init.idleMs !== undefined ? { idleMs: init.idleMs } : {}),
      onClosed: (peer, link, error, fault) => {
        this.#closedBytes[link.relayed ? "relayed" : "direct"] += link.bytesIn;
        const bulk = link.bulk;
        this.#closedBytes.bulk += bulk.bytesIn;
        if (bulk.error) {
          if (this.#noBulkUntil.size > 4096) this.#noBulkUntil.clear();
          this.#noBulkUntil.set(peer, Date.now() + (init.bulkRetryMs ?? 600_000));
        }
        if (fault && error) init.onFault?.(peer, error);
      },
    });
  }

  /** Starts closing idle links. */
  start(): void {
    this.#pool.start();
  }

  /** Closes every link. */
  stop(): void {
    this.#pool.stop();
  }

  /** The open link to `peer`, if any. */
  peek(peer: string): PeerLink | undefined {
    return this.#pool.peek(peer);
  }

  /** The link to `peerId`, opened (and dialled) if needed. */
  get(peerId: PeerId, signal?: AbortSignal): Promise<PeerLink> {
    return this.#pool.get(peerId, signal);
  }

  /**
   * Bytes received over links so far, by path (direct, or through a relay); `bulk`: the part
   * of `direct` that came on bulk lanes.
   */
  bytesByPath(): { direct: number; relayed: number; bulk: number } {
    const out = { ...this.#closedBytes };
    for (const link of this.#pool.links()) {
      if (link.closed) continue;
      out[link.relayed ? "relayed" : "direct"] += link.bytesIn;
      out.bulk += link.bulk.bytesIn;
    }
    return out;
  }

  /** Closes the link to `peer` (its connection closed). */
  closePeer(peer: string): void {
    this.#pool.closePeer(peer);
  }
}
