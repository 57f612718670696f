/**
 * One long-lived link per peer, opened on first use (concurrent callers share
 * the opening), dropped when it closes, and closed after `idleMs` without a
 * request: the pool behind the block links and the narinfo links.
 *
 * @example
 * ```ts
 * const pool = new LinkPool({ open: (peerId, signal) => NarinfoLink.open(node, peerId, { timeoutMs, signal }) });
 * pool.start();
 * const link = await pool.get(peerId);
 * pool.stop();
 * ```
 * @module
 */
import type { PeerId } from "@libp2p/interface";

/** What the pool needs of a link. */
export interface PooledLink {
  readonly closed: boolean;
  /** Requests waiting for their answer. */
  readonly pendingRequests: number;
  /** When the link was last used (ms since the epoch). */
  readonly lastUsed: number;
  close(): void;
  /** Called once when the link closes; `fault`: the peer broke the protocol. */
  onClose(listener: (error?: Error, fault?: boolean) => void): unknown;
}

/** Options of {@linkcode LinkPool}. */
export interface LinkPoolInit<L extends PooledLink> {
  /** Opens (and dials if needed) a link to `peerId`. */
  open: (peerId: PeerId, signal?: AbortSignal) => Promise<L>;
  /** A link with no request for this long closes. Default 60 s. */
  idleMs?: number;
  /** A pooled link closed (after it left the pool). */
  onClosed?: (peer: string, link: L, error: Error | undefined, fault: boolean) => void;
}

/** The pool. */
export class LinkPool<L extends PooledLink> {
  #o: LinkPoolInit<L>;
  #links = new Map<string, L>();
  #opening = new Map<string, Promise<L>>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Creates the pool (call {@linkcode start} for idle clean-up). */
  constructor(init: LinkPoolInit<L>) {
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
    Deno.unrefTimer(this.#timer);
  }

  /** Closes every link. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
  }

  /** The open link to `peer`, if any. */
  peek(peer: string): L | undefined {
    const link = this.#links.get(peer);
    return link && !link.closed ? link : undefined;
  }

  /** The links in the pool. */
  links(): IterableIterator<L> {
    return this.#links.values();
  }

  /** The link to `peerId`, opened (and dialled) if needed. */
  get(peerId: PeerId, signal?: AbortSignal): Promise<L> {
    const peer = peerId.toString();
    const open = this.peek(peer);
    if (open) return Promise.resolve(open);
    let opening = this.#opening.get(peer);
    if (!opening) {
      opening = this.#o.open(peerId, signal).then((link) => {
        this.#links.set(peer, link);
        link.onClose((error, fault) => {
          if (this.#links.get(peer) === link) this.#links.delete(peer);
          this.#o.onClosed?.(peer, link, error, fault ?? false);
        });
        return link;
      }).finally(() => this.#opening.delete(peer));
      this.#opening.set(peer, opening);
    }
    return opening;
  }

  /** Closes the link to `peer` (its connection closed). */
  closePeer(peer: string): void {
    this.#links.get(peer)?.close();
  }
}
