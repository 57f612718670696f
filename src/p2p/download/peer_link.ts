/**
 * The requester's end of one long-lived block-exchange stream to one peer,
 * shared by every NAR fetched from that peer (docs/protocol.md §3): `have`
 * for a whole batch of NarHashes, manifests, whole small NARs and blocks of
 * any item, all multiplexed by request id — no new stream, no protocol
 * negotiation per item. A response for an unknown request, an index or hash
 * that was not asked for, or a malformed frame is a protocol fault: the
 * stream is reset and every user of the link is told.
 *
 * @example
 * ```ts
 * const link = await PeerLink.open(node, peerId, { maxMessageSize, timeoutMs: 5000 });
 * const states = await link.have([narHashA, narHashB], 5000); // ["complete", "none"]
 * const manifest = await link.manifest(narHashA, 5000);
 * ```
 * @module
 */
import type { PeerId, Stream } from "@libp2p/interface";
import { hexEncode } from "../../encoding/hex.ts";
import { sendParts } from "../_channel.ts";
import { openPreferDirect } from "../nat/prefer_direct.ts";
import type { P2pNode } from "../node.ts";
import {
  answerBlocks,
  answerRequest,
  type BlockHandlers,
  type NarReply,
  PeerFaultError,
  type Pending,
} from "./_replies.ts";
import {
  BLOCKS_PROTOCOL,
  encodeFrame,
  type HaveState,
  type Manifest,
  MAX_HAVE_HASHES,
  MAX_NARS,
  readFrames,
} from "../wire/mod.ts";

export { type BlockHandlers, type NarReply, PeerFaultError } from "./_replies.ts";

/** Options of {@linkcode PeerLink.open}. */
export interface PeerLinkOptions {
  /** Largest frame accepted from the peer. */
  maxMessageSize: number;
  /** Bound on dialling and protocol negotiation. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** One stream to one peer, for every item. */
export class PeerLink {
  readonly peer: string;
  readonly peerId: PeerId;
  /** The remote address of the connection the stream runs on. */
  readonly address: string;
  /** True when that connection goes through a relay. */
  readonly relayed: boolean;
  #stream: Stream;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  #bytesIn = 0;
  #lastUsed = Date.now();
  #closeListeners = new Set<(error?: Error, fault?: boolean) => void>();

  private constructor(peerId: PeerId, stream: Stream, maxMessageSize: number, address: string) {
    this.peerId = peerId;
    this.peer = peerId.toString();
    this.address = address;
    this.relayed = address.includes("/p2p-circuit");
    this.#stream = stream;
    this.#read(maxMessageSize);
  }

  /** Dials `peerId` (if needed) and opens the block-exchange stream. */
  static async open(node: P2pNode, peerId: PeerId, options: PeerLinkOptions): Promise<PeerLink> {
    const signal = AbortSignal.any([
      AbortSignal.timeout(options.timeoutMs),
      ...(options.signal ? [options.signal] : []),
    ]);
    // A direct connection if there is or soon will be one (DCUtR), else the relayed one.
    const { stream, connection } = await openPreferDirect(node, peerId, BLOCKS_PROTOCOL, {
      signal,
    });
    return new PeerLink(peerId, stream, options.maxMessageSize, connection.remoteAddr.toString());
  }

  /** Bytes received on this stream. */
  get bytesIn(): number {
    return this.#bytesIn;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Requests in flight. */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /** When a request was last sent or answered (ms since the epoch). */
  get lastUsed(): number {
    return this.#lastUsed;
  }

  /** Calls `listener` once when the link closes (error set for resets and faults). */
  onClose(listener: (error?: Error, fault?: boolean) => void): () => void {
    if (this.#closed) {
      queueMicrotask(() => listener(new Error(`${this.peer}: link closed`)));
      return () => {};
    }
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Which of `narHashes` the peer can serve (at most 1024); rejects after `timeoutMs`. */
  have(narHashes: Uint8Array[], timeoutMs: number): Promise<HaveState[]> {
    if (narHashes.length < 1 || narHashes.length > MAX_HAVE_HASHES) {
      return Promise.reject(new RangeError(`have: ${narHashes.length} hashes`));
    }
    return this.#call(timeoutMs, (id, resolve, reject) => {
      this.#pending.set(id, { kind: "have", count: narHashes.length, resolve, reject });
      return encodeFrame({ kind: "have", id, narHashes });
    }, "have");
  }

  /** The peer's manifest of `narHash`, or "not-found"; rejects after `timeoutMs`. */
  manifest(narHash: Uint8Array, timeoutMs: number): Promise<Manifest | "not-found"> {
    return this.#call(timeoutMs, (id, resolve, reject) => {
      this.#pending.set(id, { kind: "manifest", resolve, reject });
      return encodeFrame({ kind: "get-manifest", id, narHash });
    }, "manifest");
  }

  /**
   * Asks for whole small NARs (at most 256); `onReply` gets each answer as it
   * arrives (index into `narHashes`). Resolves when every hash was answered;
   * rejects when no answer came for `stallMs` or the link closed.
   */
  nars(
    narHashes: Uint8Array[],
    onReply: (index: number, reply: NarReply) => void,
    stallMs: number,
  ): Promise<void> {
    if (narHashes.length < 1 || narHashes.length > MAX_NARS) {
      return Promise.reject(new RangeError(`nars: ${narHashes.length} hashes`));
    }
    const id = this.#nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.peer}: no NAR for ${stallMs} ms`));
      }, stallMs);
    };
    this.#pending.set(id, {
      kind: "nars",
      hashes: narHashes.map(hexEncode),
      next: 0,
      onReply,
      resolve: () => {
        clearTimeout(timer);
        resolve();
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
      touch,
    });
    touch();
    this.#send(encodeFrame({ kind: "get-nars", id, narHashes })).catch((e) => {
      clearTimeout(timer);
      this.#pending.delete(id);
      reject(e);
    });
    return promise;
  }

  /** Asks for blocks of `narHash`; responses go to `handlers`. Returns the request id. */
  requestBlocks(narHash: Uint8Array, indexes: number[], handlers: BlockHandlers): number {
    const id = this.#nextId++;
    this.#pending.set(id, {
      kind: "blocks",
      outstanding: [...indexes],
      all: new Set(indexes),
      handlers,
    });
    this.#send(encodeFrame({ kind: "get-blocks", id, narHash, indexes })).catch((e) =>
      this.close(e)
    );
    return id;
  }

  /**
   * Withdraws `indexes` of request `id` (they will not be answered if not yet
   * sent; a block already on its way is accepted and dropped).
   */
  cancel(id: number, indexes: number[]): void {
    const p = this.#pending.get(id);
    if (p?.kind !== "blocks") return;
    p.outstanding = p.outstanding.filter((i) => !indexes.includes(i));
    if (p.outstanding.length === 0) this.#pending.delete(id);
    if (this.#closed) return;
    this.#send(encodeFrame({ kind: "cancel", id, indexes })).catch(() => {});
  }

  /** Stops routing request `id`'s responses anywhere (its late blocks are dropped quietly). */
  forget(id: number): void {
    const p = this.#pending.get(id);
    if (p?.kind !== "blocks") return;
    // Late replies to it are recognised by their id (issued before) and dropped.
    this.#pending.delete(id);
    if (p.outstanding.length > 0 && !this.#closed) {
      const indexes = p.outstanding;
      for (let at = 0; at < indexes.length; at += 256) {
        this.#send(encodeFrame({ kind: "cancel", id, indexes: indexes.slice(at, at + 256) }))
          .catch(() => {});
      }
    }
  }

  /** Closes the stream; with an error, resets it. Every pending request fails. */
  close(error?: Error, fault = false): void {
    if (this.#closed) return;
    this.#closed = true;
    if (error) this.#stream.abort(error);
    else this.#stream.close().catch(() => {});
    const reason = error ?? new Error(`${this.peer}: link closed`);
    // Block requests learn of it through their channel's close listener.
    for (const [, p] of this.#pending) if (p.kind !== "blocks") p.reject(reason);
    this.#pending.clear();
    for (const l of this.#closeListeners) l(error, fault);
    this.#closeListeners.clear();
  }

  #call<T>(
    timeoutMs: number,
    register: (id: number, resolve: (v: T) => void, reject: (e: Error) => void) => Uint8Array,
    what: string,
  ): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.peer}: no ${what} reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const frame = register(
        id,
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e) => {
          clearTimeout(timer);
          reject(e);
        },
      );
      this.#send(frame).catch((e) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(e);
      });
    });
  }

  async #send(bytes: Uint8Array): Promise<void> {
    if (this.#closed) throw new Error(`${this.peer}: link closed`);
    this.#lastUsed = Date.now();
    await sendParts(this.#stream, [bytes]);
  }

  #read(maxMessageSize: number): void {
    (async () => {
      const counting = countBytes(this.#stream, (n) => (this.#bytesIn += n));
      for await (const msg of readFrames(counting, { maxMessageSize, accept: "responses" })) {
        this.#lastUsed = Date.now();
        const p = this.#pending.get(msg.id);
        if (!p) {
          // A late reply to a request we timed out, cancelled or forgot is harmless (on a
          // stream shared by every item, a small answer may wait behind megabytes of blocks).
          if (msg.id > 0 && msg.id < this.#nextId) continue;
          throw new PeerFaultError(`${this.peer}: reply to request ${msg.id}, never sent`);
        }
        if (p.kind === "blocks") await answerBlocks(this.peer, msg, p, this.#pending);
        else answerRequest(this.peer, msg, p, this.#pending);
      }
      this.close();
    })().catch((e) => {
      const err = e as Error;
      // A relay cuts a circuit at its data or time limit, often inside a frame: not the peer's fault.
      const cut = this.relayed && err.name === "WireError" &&
        err.message.startsWith("stream ended inside a frame");
      this.close(err, !cut && (e instanceof PeerFaultError || err.name === "WireError"));
    });
  }
}

async function* countBytes(
  stream: AsyncIterable<Uint8Array | { byteLength: number; subarray(): Uint8Array }>,
  count: (n: number) => void,
): AsyncGenerator<Uint8Array | { byteLength: number; subarray(): Uint8Array }> {
  for await (const chunk of stream) {
    count(chunk.byteLength);
    yield chunk;
  }
}
