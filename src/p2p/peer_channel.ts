/**
 * The requester's end of one block-exchange stream to one peer for one NAR:
 * sends GET_MANIFEST / GET_BLOCKS / CANCEL and routes every response to the
 * request it answers by request id (no guessing by peer, as the Rust
 * implementation had to). A response for an unknown request, an index that
 * was not asked for, or a malformed frame is a protocol fault: the stream is
 * reset and the channel reports it.
 *
 * @example
 * ```ts
 * const ch = await PeerChannel.open(node, peerId, { maxMessageSize, timeoutMs: 5000, handlers });
 * const manifest = await ch.manifest(narHash, 5000);
 * ch.requestBlocks(narHash, [0, 1, 2]);
 * ```
 * @module
 */
import type { PeerId, Stream } from "@libp2p/interface";
import { sendParts } from "./_channel.ts";
import type { P2pNode } from "./node.ts";
import {
  type BlockMessage,
  BLOCKS_PROTOCOL,
  encodeFrame,
  type ErrorCode,
  type Manifest,
  readFrames,
} from "./wire/mod.ts";

/** Callbacks for block responses. */
export interface ChannelHandlers {
  /** A block arrived for a request of ours (not yet verified). */
  block(channel: PeerChannel, message: BlockMessage): Promise<void> | void;
  /** A requested block could not be served. */
  blockError(channel: PeerChannel, index: number, code: ErrorCode | "not-found"): void;
  /** The channel closed (error set for resets and protocol faults). */
  closed(channel: PeerChannel, error?: Error, fault?: boolean): void;
}

type Pending =
  | { kind: "manifest"; resolve: (m: Manifest | "not-found") => void; reject: (e: Error) => void }
  | { kind: "blocks"; outstanding: number[]; cancelled?: Set<number> };

/** Raised for a peer's protocol violation. */
export class PeerFaultError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "PeerFaultError";
  }
}

/** One stream to one peer. */
export class PeerChannel {
  readonly peer: string;
  readonly peerId: PeerId;
  #stream: Stream;
  #handlers: ChannelHandlers;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;
  #bytesIn = 0;

  private constructor(
    peerId: PeerId,
    stream: Stream,
    handlers: ChannelHandlers,
    maxMessageSize: number,
  ) {
    this.peerId = peerId;
    this.peer = peerId.toString();
    this.#stream = stream;
    this.#handlers = handlers;
    this.#read(maxMessageSize);
  }

  /** Dials `peerId` (if needed) and opens a block-exchange stream. */
  static async open(
    node: P2pNode,
    peerId: PeerId,
    options: {
      maxMessageSize: number;
      timeoutMs: number;
      handlers: ChannelHandlers;
      signal?: AbortSignal | undefined;
    },
  ): Promise<PeerChannel> {
    const signal = AbortSignal.any([
      AbortSignal.timeout(options.timeoutMs),
      ...(options.signal ? [options.signal] : []),
    ]);
    const stream = await node.dialProtocol(peerId, BLOCKS_PROTOCOL, { signal });
    return new PeerChannel(peerId, stream, options.handlers, options.maxMessageSize);
  }

  /** Bytes received on this stream (compressed blocks as sent). */
  get bytesIn(): number {
    return this.#bytesIn;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Requests in flight on this stream. */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /** Asks for the manifest; resolves with it or "not-found"; rejects after `timeoutMs`. */
  manifest(narHash: Uint8Array, timeoutMs: number): Promise<Manifest | "not-found"> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.peer}: no manifest within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        kind: "manifest",
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#send(encodeFrame({ kind: "get-manifest", id, narHash })).catch((e) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(e);
      });
    });
  }

  /** Asks for blocks; responses go to the handlers. Returns the request id. */
  requestBlocks(narHash: Uint8Array, indexes: number[]): number {
    const id = this.#nextId++;
    this.#pending.set(id, { kind: "blocks", outstanding: [...indexes] });
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
    // A block the responder had already started sending still arrives: expect it.
    p.cancelled ??= new Set();
    for (const i of indexes) p.cancelled.add(i);
    if (p.outstanding.length === 0) this.#pending.delete(id);
    this.#send(encodeFrame({ kind: "cancel", id, indexes })).catch(() => {});
  }

  /** Closes the stream; with an error, resets it. */
  close(error?: Error, fault = false): void {
    if (this.#closed) return;
    this.#closed = true;
    if (error) this.#stream.abort(error);
    else this.#stream.close().catch(() => {});
    for (const [, p] of this.#pending) {
      if (p.kind === "manifest") p.reject(error ?? new Error(`${this.peer}: channel closed`));
    }
    this.#pending.clear();
    this.#handlers.closed(this, error, fault);
  }

  async #send(bytes: Uint8Array): Promise<void> {
    if (this.#closed) throw new Error(`${this.peer}: channel closed`);
    await sendParts(this.#stream, [bytes]);
  }

  #read(maxMessageSize: number): void {
    (async () => {
      const counting = countBytes(this.#stream, (n) => (this.#bytesIn += n));
      for await (const msg of readFrames(counting, { maxMessageSize, accept: "responses" })) {
        const p = this.#pending.get(msg.id);
        if (!p) {
          // A late block for a request we cancelled or timed out is harmless; anything else is a fault.
          if (msg.kind === "block") continue;
          throw new PeerFaultError(`${this.peer}: reply to unknown request ${msg.id}`);
        }
        if (p.kind === "manifest") {
          this.#pending.delete(msg.id);
          if (msg.kind === "manifest") p.resolve(msg.manifest);
          else if (msg.kind === "not-found") p.resolve("not-found");
          else if (msg.kind === "error") {
            p.reject(new Error(`${this.peer}: ${msg.code}: ${msg.message}`));
          } else throw new PeerFaultError(`${this.peer}: ${msg.kind} in reply to get-manifest`);
          continue;
        }
        if (msg.kind === "block") {
          const at = p.outstanding.indexOf(msg.index);
          if (at < 0 && p.cancelled?.delete(msg.index)) continue; // cancelled, sent anyway
          if (at < 0) {
            throw new PeerFaultError(
              `${this.peer}: block ${msg.index} was not requested in ${msg.id}`,
            );
          }
          p.outstanding.splice(at, 1);
          if (p.outstanding.length === 0) this.#pending.delete(msg.id);
          await this.#handlers.block(this, msg);
        } else if (msg.kind === "error") {
          const index = p.outstanding.shift();
          if (p.outstanding.length === 0) this.#pending.delete(msg.id);
          if (index !== undefined) this.#handlers.blockError(this, index, msg.code);
        } else if (msg.kind === "not-found") {
          this.#pending.delete(msg.id);
          for (const index of p.outstanding) this.#handlers.blockError(this, index, "not-found");
        } else {
          throw new PeerFaultError(`${this.peer}: ${msg.kind} in reply to get-blocks`);
        }
      }
      this.close();
    })().catch((e) =>
      this.close(e as Error, e instanceof PeerFaultError || (e as Error).name === "WireError")
    );
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
