/**
 * A download's view of a peer: the block requests of one NAR on a shared
 * {@linkcode PeerLink}. Closing the view withdraws its requests (CANCEL) and
 * detaches it; the link stays open for other items. When the link itself
 * closes (the peer went away, or broke the protocol), every view on it is
 * told, with the fault flag for protocol violations.
 *
 * @example
 * ```ts
 * const channel = new LinkChannel(link, handlers);
 * const id = channel.requestBlocks(narHash, [0, 1, 2]);
 * channel.close(); // the other items on `link` are not affected
 * ```
 * @module
 */
import type { PeerId } from "@libp2p/interface";
import type { BlockMessage, ErrorCode, Manifest } from "../wire/mod.ts";
import type { BulkOrigin, PeerLink } from "./peer_link.ts";

/** Callbacks of a download for one peer's responses. */
export interface ChannelHandlers {
  /**
   * A block arrived for a request of ours (not yet verified); `bulk` is set when it came on
   * the bulk lane (a bad one there drops the lane, it is not the peer's proven fault).
   */
  block(channel: BlockChannel, message: BlockMessage, bulk?: BulkOrigin): Promise<void> | void;
  /** A requested block could not be served. */
  blockError(channel: BlockChannel, index: number, code: ErrorCode | "not-found"): void;
  /** The channel closed (error set for resets and protocol faults). */
  closed(channel: BlockChannel, error?: Error, fault?: boolean): void;
}

/** What a download needs of a peer. */
export interface BlockChannel {
  readonly peer: string;
  readonly closed: boolean;
  /** The peer's manifest of `narHash` (for refreshing a partial peer's have-bitfield). */
  manifest(narHash: Uint8Array, timeoutMs: number): Promise<Manifest | "not-found">;
  /** Asks for blocks; responses go to the handlers. Returns the request id. */
  requestBlocks(narHash: Uint8Array, indexes: number[]): number;
  /** Withdraws indexes of a request. */
  cancel(id: number, indexes: number[]): void;
  /** Detaches (and, with an error, reports it). */
  close(error?: Error, fault?: boolean): void;
}

/** A {@linkcode BlockChannel} on a shared link. */
export class LinkChannel implements BlockChannel {
  readonly peer: string;
  readonly peerId: PeerId;
  #link: PeerLink;
  #handlers: ChannelHandlers;
  #requests = new Set<number>();
  #closed = false;
  #unlisten: () => void;

  /** Creates a view of `link` whose responses go to `handlers`. */
  constructor(link: PeerLink, handlers: ChannelHandlers) {
    this.#link = link;
    this.peer = link.peer;
    this.peerId = link.peerId;
    this.#handlers = handlers;
    // A protocol fault on the shared link is penalised once, by the link pool, not once per
    // download that had a channel on it.
    this.#unlisten = link.onClose((error) => this.close(error, false));
  }

  /** True once closed (or the link closed). */
  get closed(): boolean {
    return this.#closed || this.#link.closed;
  }

  /** Bytes the link received (for all items). */
  get bytesIn(): number {
    return this.#link.bytesIn;
  }

  /** Replaces the handlers (a channel opened before its download existed). */
  setHandlers(handlers: ChannelHandlers): void {
    this.#handlers = handlers;
  }

  manifest(narHash: Uint8Array, timeoutMs: number): Promise<Manifest | "not-found"> {
    return this.#link.manifest(narHash, timeoutMs);
  }

  requestBlocks(narHash: Uint8Array, indexes: number[]): number {
    const id = this.#link.requestBlocks(narHash, indexes, {
      block: (m, bulk) => {
        if (this.#closed) return;
        return this.#handlers.block(this, m, bulk);
      },
      error: (i, code) => {
        if (!this.#closed) this.#handlers.blockError(this, i, code);
      },
    });
    this.#requests.add(id);
    return id;
  }

  cancel(id: number, indexes: number[]): void {
    this.#link.cancel(id, indexes);
  }

  close(error?: Error, fault = false): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlisten();
    for (const id of this.#requests) this.#link.forget(id);
    this.#requests.clear();
    this.#handlers.closed(this, error, fault);
  }
}
