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
  type BulkOrigin,
  type Lane,
  type NarReply,
  PeerFaultError,
  type Pending,
} from "./_replies.ts";
import { bulkLaneAllowed, type BulkLanePolicy, hostOfConnection } from "../bulk_lane.ts";
import type { BulkConnection, BulkDialer } from "./deno_bulk_dial.ts";
import {
  BLOCKS_PROTOCOL,
  encodeFrame,
  type HaveState,
  type Manifest,
  MAX_HAVE_HASHES,
  MAX_NARS,
  readFrames,
  type WireMessage,
} from "../wire/mod.ts";

export { type BlockHandlers, type BulkOrigin, type NarReply, PeerFaultError } from "./_replies.ts";

/** Options of {@linkcode PeerLink.open}. */
export interface PeerLinkOptions {
  /** Largest frame accepted from the peer. */
  maxMessageSize: number;
  /** Bound on dialling and protocol negotiation. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /**
   * Block data over a bulk lane where `policy` allows it for this connection
   * (docs/protocol.md §3.7); none without.
   */
  bulk?: { policy: BulkLanePolicy; dial: BulkDialer } | undefined;
}

/** The state of a link's bulk lane. */
export type BulkState = "none" | "opening" | "open" | "closed";

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
  #maxMessageSize: number;
  #bulk: BulkConnection | undefined;
  #bulkState: BulkState = "none";
  #bulkError: string | undefined;
  #bulkBytes = 0;
  /** Handed with data that came on the bulk lane: a bad block drops the lane, not the peer. */
  #bulkOrigin: BulkOrigin = { distrust: (reason) => this.#bulkLost(new Error(reason)) };

  private constructor(peerId: PeerId, stream: Stream, maxMessageSize: number, address: string) {
    this.peerId = peerId;
    this.peer = peerId.toString();
    this.address = address;
    this.relayed = address.includes("/p2p-circuit");
    this.#stream = stream;
    this.#maxMessageSize = maxMessageSize;
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
    const address = connection.remoteAddr.toString();
    const link = new PeerLink(peerId, stream, options.maxMessageSize, address);
    const bulk = options.bulk;
    if (bulk && bulkLaneAllowed(bulk.policy, address)) {
      link.#openBulk(bulk.dial, options.timeoutMs);
    }
    return link;
  }

  /** Whether block data goes over a bulk lane (and why not, once it stopped). */
  get bulk(): { state: BulkState; bytesIn: number; error?: string } {
    return {
      state: this.#bulkState,
      bytesIn: this.#bulkBytes,
      ...(this.#bulkError ? { error: this.#bulkError } : {}),
    };
  }

  /** Asks for a ticket on the stream and opens the lane; until then (or if it fails) data goes on the stream. */
  #openBulk(dial: BulkDialer, timeoutMs: number): void {
    const host = hostOfConnection(this.address);
    if (!host) return;
    this.#bulkState = "opening";
    (async () => {
      const offer = await this.#call<{ port: number; ticket: Uint8Array }>(
        timeoutMs,
        (id, resolve, reject) => {
          this.#pending.set(id, { kind: "bulk", resolve, reject });
          return encodeFrame({ kind: "bulk-open", id });
        },
        "bulk-open",
      );
      const conn = await dial(host, offer.port, offer.ticket, {
        signal: AbortSignal.timeout(timeoutMs),
        maxMessageSize: this.#maxMessageSize,
      });
      if (this.#closed) return conn.close();
      this.#bulk = conn;
      this.#bulkState = "open";
      this.#readBulk(conn);
    })().catch((e) => {
      if (this.#bulkState === "opening") {
        this.#bulkState = "closed";
        this.#bulkError = (e as Error).message;
      }
    });
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
    const lane: Lane = this.#bulk ? "bulk" : "stream";
    this.#pending.set(id, {
      kind: "nars",
      lane,
      raw: narHashes,
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
    this.#sendOn(lane, encodeFrame({ kind: "get-nars", id, narHashes })).catch((e) => {
      // A lane that failed: the request (still pending, on the lane) is asked again on the stream.
      if (lane === "bulk") return this.#bulkLost(e as Error);
      clearTimeout(timer);
      this.#pending.delete(id);
      reject(e);
    });
    return promise;
  }

  /** Asks for blocks of `narHash`; responses go to `handlers`. Returns the request id. */
  requestBlocks(narHash: Uint8Array, indexes: number[], handlers: BlockHandlers): number {
    const id = this.#nextId++;
    const lane: Lane = this.#bulk ? "bulk" : "stream";
    this.#pending.set(id, {
      kind: "blocks",
      lane,
      narHash,
      outstanding: [...indexes],
      all: new Set(indexes),
      handlers,
    });
    this.#sendOn(lane, encodeFrame({ kind: "get-blocks", id, narHash, indexes })).catch((e) =>
      lane === "bulk" ? this.#bulkLost(e as Error) : this.close(e)
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
    this.#sendOn(p.lane, encodeFrame({ kind: "cancel", id, indexes })).catch(() => {});
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
        this.#sendOn(
          p.lane,
          encodeFrame({ kind: "cancel", id, indexes: indexes.slice(at, at + 256) }),
        )
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
    this.#bulk?.close();
    this.#bulk = undefined;
    if (this.#bulkState !== "none") this.#bulkState = "closed";
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

  /** Sends on the bulk lane if the request went there (and the lane is still up), else on the stream. */
  #sendOn(lane: Lane, bytes: Uint8Array): Promise<void> {
    if (lane === "bulk" && this.#bulk && !this.#closed) {
      this.#lastUsed = Date.now();
      return this.#bulk.send(bytes);
    }
    return this.#send(bytes);
  }

  /**
   * The bulk lane failed, or sent data that proved wrong: it is closed for good on this link
   * (no penalty: plain TCP can be tampered with on the way), and what was asked on it is asked
   * again on the encrypted stream.
   */
  #bulkLost(error: Error): void {
    const conn = this.#bulk;
    if (!conn) return;
    this.#bulk = undefined;
    this.#bulkState = "closed";
    this.#bulkError = error.message;
    conn.close();
    if (this.#closed) return;
    for (const [id, p] of this.#pending) {
      if (p.kind === "nars" && p.lane === "bulk") {
        const done = p.next;
        const onReply = p.onReply;
        p.raw = p.raw.slice(done);
        p.hashes = p.hashes.slice(done);
        p.next = 0;
        p.onReply = (i, reply) => onReply(i + done, reply);
        p.lane = "stream";
        p.touch();
        this.#send(encodeFrame({ kind: "get-nars", id, narHashes: p.raw })).catch((e) =>
          this.close(e as Error)
        );
      } else if (p.kind === "blocks" && p.lane === "bulk") {
        p.lane = "stream";
        if (p.outstanding.length === 0) continue;
        const { narHash, outstanding } = p;
        for (let at = 0; at < outstanding.length; at += 256) {
          const indexes = outstanding.slice(at, at + 256);
          this.#send(encodeFrame({ kind: "get-blocks", id, narHash, indexes })).catch((e) =>
            this.close(e as Error)
          );
        }
      }
    }
  }

  /** Answers on the bulk lane go to the requests made on it; any trouble drops the lane only. */
  #readBulk(conn: BulkConnection): void {
    (async () => {
      const counting = countBytes(conn.source, (n) => {
        this.#bytesIn += n;
        this.#bulkBytes += n;
      });
      const frames = readFrames(counting, {
        maxMessageSize: this.#maxMessageSize,
        accept: "responses",
      });
      for await (const msg of frames) {
        if (this.#bulk !== conn) return;
        await this.#dispatch(msg, "bulk");
      }
      throw new Error("bulk lane closed by the peer");
    })().catch((e) => this.#bulkLost(e as Error));
  }

  /**
   * Routes a reply that came on `lane` to its request (`nars` and `blocks` requests are
   * answered on the lane they went on).
   * @throws {PeerFaultError} for a reply to a request never sent, or on the wrong lane.
   */
  async #dispatch(msg: WireMessage, lane: Lane): Promise<void> {
    this.#lastUsed = Date.now();
    const p = this.#pending.get(msg.id);
    if (!p) {
      // A late reply to a request we timed out, cancelled or forgot is harmless (on a
      // stream shared by every item, a small answer may wait behind megabytes of blocks).
      if (msg.id > 0 && msg.id < this.#nextId) return;
      throw new PeerFaultError(`${this.peer}: reply to request ${msg.id}, never sent`);
    }
    const onLane = p.kind === "nars" || p.kind === "blocks" ? p.lane : "stream";
    if (onLane !== lane) {
      throw new PeerFaultError(`${this.peer}: reply to request ${msg.id} on the wrong lane`);
    }
    const origin = lane === "bulk" ? this.#bulkOrigin : undefined;
    if (p.kind === "blocks") await answerBlocks(this.peer, msg, p, this.#pending, origin);
    else answerRequest(this.peer, msg, p, this.#pending, origin);
  }

  #read(maxMessageSize: number): void {
    (async () => {
      const counting = countBytes(this.#stream, (n) => (this.#bytesIn += n));
      for await (const msg of readFrames(counting, { maxMessageSize, accept: "responses" })) {
        await this.#dispatch(msg, "stream");
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
