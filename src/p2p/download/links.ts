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
import { PeerLink } from "./peer_link.ts";

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
}

/** The pool. */
export class PeerLinks {
  #o: PeerLinksInit;
  #links = new Map<string, PeerLink>();
  #opening = new Map<string, Promise<PeerLink>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #closedBytes = { direct: 0, relayed: 0 };

  /** Creates the pool (call {@linkcode start} for idle clean-up). */
  constructor(init: PeerLinksInit) {
    this.#o = init;
  }

  /** Starts closing idle links. */
  start(): void {
    const idle = this.#o.idleMs ?? 60_000;
    this.#timer = setInterval(() => {
      const now = Date.now();
      for (const link of this.#links.values()) {
        if (link.pendingRequests === 0 && now - link.lastUsed > idle) link.close();
      }
    }, Math.min(idle, 10_000));
    (this.#timer as unknown as { unref?: () => void }).unref?.();
  }

  /** Closes every link. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
  }

  /** The open link to `peer`, if any. */
  peek(peer: string): PeerLink | undefined {
    const link = this.#links.get(peer);
    return link && !link.closed ? link : undefined;
  }

  /** The link to `peerId`, opened (and dialled) if needed. */
  get(peerId: PeerId, signal?: AbortSignal): Promise<PeerLink> {
    const peer = peerId.toString();
    const open = this.peek(peer);
    if (open) return Promise.resolve(open);
    let opening = this.#opening.get(peer);
    if (!opening) {
      opening = PeerLink.open(this.#o.node(), peerId, {
        maxMessageSize: this.#o.maxMessageSize,
        timeoutMs: this.#o.timeoutMs,
        signal,
      }).then((link) => {
        this.#links.set(peer, link);
        link.onClose((error, fault) => {
          this.#closedBytes[link.relayed ? "relayed" : "direct"] += link.bytesIn;
          if (this.#links.get(peer) === link) this.#links.delete(peer);
          if (fault && error) this.#o.onFault?.(peer, error);
        });
        return link;
      }).finally(() => this.#opening.delete(peer));
      this.#opening.set(peer, opening);
    }
    return opening;
  }

  /** Bytes received over links so far, by path (direct, or through a relay). */
  bytesByPath(): { direct: number; relayed: number } {
    const out = { ...this.#closedBytes };
    for (const link of this.#links.values()) {
      if (!link.closed) out[link.relayed ? "relayed" : "direct"] += link.bytesIn;
    }
    return out;
  }

  /** Closes the link to `peer` (its connection closed). */
  closePeer(peer: string): void {
    this.#links.get(peer)?.close();
  }
}
