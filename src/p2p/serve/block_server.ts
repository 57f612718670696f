/**
 * The responder side of the block exchange (docs/protocol.md §3): answers
 * `HAVE`, manifests, whole small NARs and blocks of what this node seeds — or
 * is still downloading — with explicit NOT_FOUND and ERROR replies,
 * zstd-compressed data when smaller, a fair upload rate limit, and bounds on
 * messages, queued requests and streams. `HAVE` and `GET_MANIFEST` are
 * answered at once, ahead of queued block data (one stream carries every item
 * a peer wants from us, so a small question must not wait behind megabytes);
 * `GET_BLOCKS`/`GET_NARS` are answered in order, and a `CANCEL` also trims the
 * request being answered. Every send is bounded: a stream whose reader stops
 * taking data is reset after `stallTimeoutMs` (slowloris), which frees its
 * window, its slot and its pinned item. Malformed input resets the stream;
 * nothing a peer sends can crash the node or make it buffer without bound.
 *
 * @example
 * ```ts
 * const server = new BlockServer({ node, seeds, limiter, peerBook, emit, maxMessageSize, maxStreamsPerPeer });
 * await server.start();
 * ```
 * @module
 */
import type { Connection, Stream } from "@libp2p/interface";
import { hexEncode } from "../../encoding/hex.ts";
import { sendParts } from "../_channel.ts";
import type { SeedRegistry, Servable } from "../store/deno_seeds.ts";
import type { P2pNode } from "../node.ts";
import type { PeerBook } from "../peer_book.ts";
import type { FairRateLimiter } from "../rate/mod.ts";
import {
  BLOCKS_PROTOCOL,
  type ChunkLike,
  type CompressedBlockCache,
  encodeFrame,
  encodeFrameParts,
  type ErrorCode,
  type GetBlocksMessage,
  type GetNarsMessage,
  type HaveState,
  MAX_WHOLE_NAR,
  readFrames,
  type WireMessage,
} from "../wire/mod.ts";
import { PeerStreams } from "../_peer_streams.ts";

/** Events of the server. */
export interface BlockServerEvents {
  "block:served": { peer: string; narHash: string; index: number; bytes: number; encoding: string };
  "nar:served": { peer: string; narHash: string; bytes: number; encoding: string };
  "stream:rejected": { peer: string; reason: string };
}

/** Options of {@linkcode BlockServer}. */
export interface BlockServerOptions {
  node: P2pNode;
  seeds: SeedRegistry;
  limiter: FairRateLimiter;
  peerBook: PeerBook;
  compressed: CompressedBlockCache;
  maxMessageSize: number;
  maxStreamsPerPeer: number;
  /** A stream whose reader takes nothing for this long is reset (default 30 s). */
  stallTimeoutMs?: number;
  /** Whether blocks sent on this connection are zstd-compressed when smaller (default: always). */
  compress?: (connection: Connection) => boolean;
  /** Offers bulk lanes (none without). */
  bulk?: BulkOffer;
  emit: <K extends keyof BlockServerEvents>(type: K, payload: BlockServerEvents[K]) => void;
}

/** Requests queued on one stream at most; more reset it. */
const MAX_QUEUED = 1024;

/**
 * A byte channel a peer's requests arrive on: a libp2p stream, or a bulk-lane
 * TCP connection (docs/protocol.md §3.7).
 */
export interface ServeChannel {
  /** The bytes the peer sends. */
  readonly source: AsyncIterable<ChunkLike>;
  /** Sends parts in order; rejects if the reader takes nothing for `stallMs`. */
  send(parts: Uint8Array[], signal: AbortSignal, stallMs: number): Promise<void>;
  /** Resets the channel. */
  abort(error: Error): void;
  /** Closes it after what was sent. */
  close(): Promise<void>;
}

/** What is offered to a peer asking for a bulk lane on a connection. */
export interface BulkOffer {
  /** A ticket and port for `connection`, or undefined when the lane is not offered there. */
  offer(connection: Connection): { port: number; ticket: Uint8Array } | undefined;
}

/** One stream being served. */
interface Serving {
  peer: string;
  signal: AbortSignal;
  compress: boolean;
  /** Sends one message's frame parts, never interleaved with another message's. */
  send(parts: Uint8Array[]): Promise<void>;
  /** Indexes cancelled in the `GET_BLOCKS` being answered, by request id. */
  cancelled: Map<number, Set<number>>;
}

/** Serves `/guix-p2p/blocks/2.0.0`. */
export class BlockServer {
  #o: BlockServerOptions;
  #streams = new PeerStreams();
  #abort = new AbortController();

  /** Creates the server (call {@linkcode start}). */
  constructor(options: BlockServerOptions) {
    this.#o = options;
  }

  get #stallMs(): number {
    return this.#o.stallTimeoutMs ?? 30_000;
  }

  /** Registers the protocol handler. */
  async start(): Promise<void> {
    await this.#o.node.handle(
      BLOCKS_PROTOCOL,
      (stream, connection) => this.#serve(stream, connection),
      {
        maxInboundStreams: this.#o.maxStreamsPerPeer,
        // Peers behind NAT may reach us only through a relay (docs/protocol.md, NAT traversal).
        runOnLimitedConnection: true,
      },
    );
  }

  /** Unregisters the handler and aborts streams being served. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("node stopping"));
    await this.#o.node.unhandle(BLOCKS_PROTOCOL).catch(() => {});
  }

  #serve(stream: Stream, connection: Connection): Promise<void> {
    const channel: ServeChannel = {
      source: stream,
      send: (parts, signal, stallMs) => sendParts(stream, parts, signal, stallMs),
      abort: (e) => stream.abort(e),
      close: () => stream.close(),
    };
    const compress = this.#o.compress?.(connection) ?? true;
    return this.serveChannel(channel, connection.remotePeer.toString(), compress, connection);
  }

  /**
   * Serves the requests of `peer` arriving on `channel` until it ends: a block stream, or a
   * bulk lane the peer opened with a ticket (`connection` absent: no bulk lane offered on it).
   */
  async serveChannel(
    channel: ServeChannel,
    peer: string,
    compress: boolean,
    connection?: Connection,
  ): Promise<void> {
    const full = this.#streams.count(peer) >= this.#o.maxStreamsPerPeer;
    if (this.#o.peerBook.isBanned(peer) || full) {
      this.#o.emit("stream:rejected", { peer, reason: full ? "too many streams" : "banned" });
      channel.abort(new Error("refused"));
      return;
    }
    this.#streams.add(peer);
    const signal = AbortSignal.any([this.#abort.signal]);
    let writing: Promise<void> = Promise.resolve();
    const s: Serving = {
      peer,
      signal,
      compress,
      send: (parts) => {
        const next = writing.then(() => channel.send(parts, signal, this.#stallMs));
        writing = next.catch(() => {});
        return next;
      },
      cancelled: new Map(),
    };
    // Requests queue here; the loop below answers them. The reader's failure is kept (never an
    // unhandled rejection: a peer must not be able to crash the node by timing its garbage).
    const queue: WireMessage[] = [];
    let wake: (() => void) | undefined;
    let readerDone = false;
    let readerError: unknown;
    let control: Promise<void> = Promise.resolve();
    const reader = (async () => {
      for await (
        const msg of readFrames(channel.source, {
          maxMessageSize: this.#o.maxMessageSize,
          accept: "requests",
          signal,
        })
      ) {
        if (this.#o.peerBook.isBanned(peer)) throw new Error("banned");
        if (msg.kind === "cancel") {
          for (const q of queue) {
            if (q.kind === "get-blocks" && q.id === msg.id) {
              q.indexes = q.indexes.filter((i) => !msg.indexes.includes(i));
            }
          }
          const current = s.cancelled.get(msg.id);
          for (const i of msg.indexes) current?.add(i);
          continue;
        }
        if (msg.kind === "have" || msg.kind === "get-manifest" || msg.kind === "bulk-open") {
          // Cheap answers go ahead of queued block data.
          control = control.then(() => this.#answerControl(msg, s, connection)).catch((e) => {
            readerError ??= e;
            channel.abort(e as Error);
          });
          continue;
        }
        queue.push(msg);
        if (queue.length > MAX_QUEUED) throw new Error("too many queued requests");
        wake?.();
      }
    })().catch((e) => {
      readerError = e;
    }).finally(() => {
      readerDone = true;
      wake?.();
    });
    try {
      for (;;) {
        if (readerError !== undefined) throw readerError;
        if (queue.length === 0) {
          if (readerDone) break;
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
          continue;
        }
        const msg = queue.shift()!;
        if (msg.kind === "get-blocks") await this.#blocks(msg, s);
        else if (msg.kind === "get-nars") await this.#nars(msg, s);
      }
      await control;
      if (readerError !== undefined) throw readerError;
      await Promise.race([
        channel.close(),
        new Promise((r) => setTimeout(r, this.#stallMs)),
      ]).catch(() => {});
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      if (!signal.aborted) {
        this.#o.emit("stream:rejected", {
          peer,
          reason: `reset: ${error.message || error.name}`,
        });
      }
      channel.abort(error);
    } finally {
      await reader;
      this.#streams.remove(peer);
    }
  }

  /** A block or whole NAR as it goes out: compressed (through the cache) or raw. */
  async #encode(
    compress: boolean,
    key: string,
    index: number,
    load: () => Promise<Uint8Array>,
  ): Promise<{ encoding: "raw" | "zstd"; data: Uint8Array }> {
    if (!compress) return { encoding: "raw", data: await load() };
    return await this.#o.compressed.encoded(key, index, load);
  }

  #error(id: number, code: ErrorCode, message: string): Uint8Array[] {
    return [encodeFrame({ kind: "error", id, code, message: message.slice(0, 500) })];
  }

  async #answerControl(msg: WireMessage, s: Serving, connection?: Connection): Promise<void> {
    if (msg.kind === "bulk-open") {
      const offer = connection && this.#o.bulk?.offer(connection);
      await s.send([
        offer
          ? encodeFrame({ kind: "bulk-ticket", id: msg.id, ...offer })
          : this.#error(msg.id, "not-available", "no bulk lane here")[0]!,
      ]);
    } else if (msg.kind === "get-manifest") {
      const servable = this.#o.seeds.servable(hexEncode(msg.narHash));
      await s.send([
        servable
          ? encodeFrame({ kind: "manifest", id: msg.id, manifest: servable.manifest() })
          : encodeFrame({ kind: "not-found", id: msg.id, narHash: msg.narHash }),
      ]);
    } else if (msg.kind === "have") {
      const states = msg.narHashes.map((h): HaveState => {
        const servable = this.#o.seeds.servable(hexEncode(h));
        return !servable ? "none" : servable.verified && servable.complete ? "complete" : "partial";
      });
      await s.send([encodeFrame({ kind: "have-reply", id: msg.id, states })]);
    }
  }

  /** Whole small NARs: only complete ones this node verified itself (never a relayed download). */
  async #nars(msg: GetNarsMessage, s: Serving): Promise<void> {
    for (const narHash of msg.narHashes) {
      const hex = hexEncode(narHash);
      const servable = this.#o.seeds.servable(hex);
      if (!servable || !servable.verified || !servable.complete) {
        await s.send([encodeFrame({ kind: "not-found", id: msg.id, narHash })]);
        continue;
      }
      if (servable.narSize > MAX_WHOLE_NAR) {
        await s.send(
          this.#error(
            msg.id,
            "bad-request",
            `NAR of ${servable.narSize} bytes is too large to send whole`,
          ),
        );
        continue;
      }
      const unpin = servable.pin();
      try {
        let encoded;
        try {
          encoded = await this.#encode(
            s.compress,
            `${hex}/whole`,
            0,
            () => servable.read(0, servable.narSize),
          );
        } catch (e) {
          await s.send(this.#error(msg.id, "internal", String((e as Error).message)));
          continue;
        }
        await this.#o.limiter.acquire(s.peer, encoded.data.length, { signal: s.signal });
        await s.send(encodeFrameParts({
          kind: "nar",
          id: msg.id,
          narHash,
          encoding: encoded.encoding,
          rawLength: servable.narSize,
          data: encoded.data,
        }));
        this.#o.peerBook.traffic(s.peer, "up", encoded.data.length);
        this.#o.emit("nar:served", {
          peer: s.peer,
          narHash: hex,
          bytes: encoded.data.length,
          encoding: encoded.encoding,
        });
      } finally {
        unpin();
      }
    }
  }

  async #blocks(msg: GetBlocksMessage, s: Serving): Promise<void> {
    const hex = hexEncode(msg.narHash);
    const servable: Servable | undefined = this.#o.seeds.servable(hex);
    if (!servable) {
      await s.send([encodeFrame({ kind: "not-found", id: msg.id, narHash: msg.narHash })]);
      return;
    }
    const cancelled = new Set<number>();
    s.cancelled.set(msg.id, cancelled);
    const unpin = servable.pin();
    try {
      const { blockCount, blockSize, narSize } = servable.manifest();
      // The layout is part of the cache key: the same NarHash may be served under another
      // block size (a store seed after a download), and a rejected layout is dropped by key.
      const key = `${hex}/${blockSize}`;
      for (const index of msg.indexes) {
        if (cancelled.has(index)) continue;
        if (index >= blockCount) {
          await s.send(this.#error(msg.id, "bad-request", `block ${index} >= ${blockCount}`));
          continue;
        }
        if (!servable.has(index)) {
          await s.send(this.#error(msg.id, "not-available", `block ${index} not here yet`));
          continue;
        }
        let encoded;
        try {
          encoded = await this.#encode(s.compress, key, index, () => servable.readBlock(index));
        } catch (e) {
          await s.send(this.#error(msg.id, "internal", String((e as Error).message)));
          continue;
        }
        await this.#o.limiter.acquire(s.peer, encoded.data.length, { signal: s.signal });
        if (cancelled.has(index)) continue;
        const rawLength = Math.min(blockSize, narSize - index * blockSize);
        await s.send(encodeFrameParts({
          kind: "block",
          id: msg.id,
          index,
          encoding: encoded.encoding,
          rawLength,
          data: encoded.data,
        }));
        this.#o.peerBook.traffic(s.peer, "up", encoded.data.length);
        this.#o.emit("block:served", {
          peer: s.peer,
          narHash: hex,
          index,
          bytes: encoded.data.length,
          encoding: encoded.encoding,
        });
      }
    } finally {
      s.cancelled.delete(msg.id);
      unpin();
    }
  }
}
