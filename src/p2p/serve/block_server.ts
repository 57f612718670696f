/**
 * The responder side of the block exchange (docs/protocol.md §3): answers
 * manifests and blocks of what this node seeds — or is still downloading —
 * with explicit NOT_FOUND and ERROR replies, zstd-compressed blocks when
 * smaller, a fair upload rate limit, and bounds on messages and streams; a
 * stream whose reader stops taking data is reset after `stallTimeoutMs`
 * (slowloris), which frees its window, its slot and its pinned item.
 * Malformed input resets the stream; nothing a peer sends can crash the node
 * or make it buffer without bound.
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
  type CompressedBlockCache,
  encodeFrame,
  encodeFrameParts,
  type GetBlocksMessage,
  type GetNarsMessage,
  type HaveState,
  MAX_WHOLE_NAR,
  readFrames,
  type WireMessage,
} from "../wire/mod.ts";

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
  emit: <K extends keyof BlockServerEvents>(type: K, payload: BlockServerEvents[K]) => void;
}

/** Serves `/guix-p2p/blocks/2.0.0`. */
export class BlockServer {
  #o: BlockServerOptions;
  #streams = new Map<string, number>();
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
      },
    );
  }

  /** Unregisters the handler and aborts streams being served. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("node stopping"));
    await this.#o.node.unhandle(BLOCKS_PROTOCOL).catch(() => {});
  }

  async #serve(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const compress = this.#o.compress?.(connection) ?? true;
    const open = (this.#streams.get(peer) ?? 0) + 1;
    if (this.#o.peerBook.isBanned(peer) || open > this.#o.maxStreamsPerPeer) {
      this.#o.emit("stream:rejected", {
        peer,
        reason: open > this.#o.maxStreamsPerPeer ? "too many streams" : "banned",
      });
      stream.abort(new Error("refused"));
      return;
    }
    this.#streams.set(peer, open);
    const signal = AbortSignal.any([this.#abort.signal]);
    // Requests queue here; a second loop sends replies so a CANCEL can overtake queued blocks.
    const queue: WireMessage[] = [];
    let wake: (() => void) | undefined;
    let readerDone = false;
    const reader = (async () => {
      try {
        for await (
          const msg of readFrames(stream, {
            maxMessageSize: this.#o.maxMessageSize,
            accept: "requests",
            signal,
          })
        ) {
          if (msg.kind === "cancel") {
            for (const q of queue) {
              if (q.kind === "get-blocks" && q.id === msg.id) {
                q.indexes = q.indexes.filter((i) => !msg.indexes.includes(i));
              }
            }
            continue;
          }
          queue.push(msg);
          if (queue.length > 1024) throw new Error("too many queued requests");
          wake?.();
        }
      } finally {
        readerDone = true;
        wake?.();
      }
    })();
    try {
      for (;;) {
        if (queue.length === 0) {
          if (readerDone) break;
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
          continue;
        }
        const msg = queue.shift()!;
        await this.#answer(msg, stream, peer, signal, compress);
      }
      await reader;
      await stream.close().catch(() => {});
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      if (!signal.aborted) {
        this.#o.emit("stream:rejected", {
          peer,
          reason: `reset: ${error.message || error.name}`,
        });
      }
      stream.abort(error);
      await reader.catch(() => {});
    } finally {
      const n = (this.#streams.get(peer) ?? 1) - 1;
      if (n <= 0) this.#streams.delete(peer);
      else this.#streams.set(peer, n);
    }
  }

  /** A block or whole NAR as it goes out: compressed (through the cache) or raw. */
  async #encode(
    compress: boolean,
    narHash: Uint8Array,
    index: number,
    load: () => Promise<Uint8Array>,
  ): Promise<{ encoding: "raw" | "zstd"; data: Uint8Array }> {
    if (!compress) return { encoding: "raw", data: await load() };
    return await this.#o.compressed.encoded(narHash, index, load);
  }

  async #answer(
    msg: WireMessage,
    stream: Stream,
    peer: string,
    signal: AbortSignal,
    compress: boolean,
  ): Promise<void> {
    if (msg.kind === "get-manifest") {
      const servable = this.#o.seeds.servable(hexEncode(msg.narHash));
      const reply = servable
        ? encodeFrame({ kind: "manifest", id: msg.id, manifest: servable.manifest() })
        : encodeFrame({ kind: "not-found", id: msg.id, narHash: msg.narHash });
      await sendParts(stream, [reply], signal, this.#stallMs);
      return;
    }
    if (msg.kind === "get-blocks") await this.#blocks(msg, stream, peer, signal, compress);
    else if (msg.kind === "get-nars") await this.#nars(msg, stream, peer, signal, compress);
    else if (msg.kind === "have") {
      const states = msg.narHashes.map((h): HaveState => {
        const servable = this.#o.seeds.servable(hexEncode(h));
        return !servable ? "none" : servable.verified ? "complete" : "partial";
      });
      await sendParts(stream, [encodeFrame({ kind: "have-reply", id: msg.id, states })], signal);
    }
  }

  /** Whole small NARs: only ones this node verified itself (never a relayed download). */
  async #nars(
    msg: GetNarsMessage,
    stream: Stream,
    peer: string,
    signal: AbortSignal,
    compress: boolean,
  ): Promise<void> {
    for (const narHash of msg.narHashes) {
      const hex = hexEncode(narHash);
      const servable = this.#o.seeds.servable(hex);
      if (!servable || !servable.verified) {
        await sendParts(stream, [encodeFrame({ kind: "not-found", id: msg.id, narHash })], signal);
        continue;
      }
      if (servable.narSize > MAX_WHOLE_NAR) {
        await sendParts(stream, [
          encodeFrame({
            kind: "error",
            id: msg.id,
            code: "bad-request",
            message: `NAR of ${servable.narSize} bytes is too large to send whole`,
          }),
        ], signal);
        continue;
      }
      const unpin = servable.pin();
      try {
        let encoded;
        try {
          encoded = await this.#encode(
            compress,
            narHash,
            -1,
            () => servable.read(0, servable.narSize),
          );
        } catch (e) {
          await sendParts(stream, [
            encodeFrame({
              kind: "error",
              id: msg.id,
              code: "internal",
              message: String((e as Error).message).slice(0, 500),
            }),
          ], signal);
          continue;
        }
        await this.#o.limiter.acquire(peer, encoded.data.length, { signal });
        await sendParts(
          stream,
          encodeFrameParts({
            kind: "nar",
            id: msg.id,
            narHash,
            encoding: encoded.encoding,
            rawLength: servable.narSize,
            data: encoded.data,
          }),
          signal,
        );
        this.#o.peerBook.traffic(peer, "up", encoded.data.length);
        this.#o.emit("nar:served", {
          peer,
          narHash: hex,
          bytes: encoded.data.length,
          encoding: encoded.encoding,
        });
      } finally {
        unpin();
      }
    }
  }

  async #blocks(
    msg: GetBlocksMessage,
    stream: Stream,
    peer: string,
    signal: AbortSignal,
    compress: boolean,
  ): Promise<void> {
    const hex = hexEncode(msg.narHash);
    const servable: Servable | undefined = this.#o.seeds.servable(hex);
    if (!servable) {
      await sendParts(
        stream,
        [
          encodeFrame({ kind: "not-found", id: msg.id, narHash: msg.narHash }),
        ],
        signal,
        this.#stallMs,
      );
      return;
    }
    const unpin = servable.pin();
    try {
      const { blockCount, blockSize, narSize } = servable.manifest();
      for (const index of msg.indexes) {
        if (index >= blockCount) {
          await sendParts(
            stream,
            [
              encodeFrame({
                kind: "error",
                id: msg.id,
                code: "bad-request",
                message: `block ${index} >= ${blockCount}`,
              }),
            ],
            signal,
            this.#stallMs,
          );
          continue;
        }
        if (!servable.has(index)) {
          await sendParts(
            stream,
            [
              encodeFrame({
                kind: "error",
                id: msg.id,
                code: "not-available",
                message: `block ${index} not here yet`,
              }),
            ],
            signal,
            this.#stallMs,
          );
          continue;
        }
        let encoded;
        try {
          encoded = await this.#encode(
            compress,
            msg.narHash,
            index,
            () => servable.readBlock(index),
          );
        } catch (e) {
          await sendParts(
            stream,
            [
              encodeFrame({
                kind: "error",
                id: msg.id,
                code: "internal",
                message: String((e as Error).message).slice(0, 500),
              }),
            ],
            signal,
            this.#stallMs,
          );
          continue;
        }
        await this.#o.limiter.acquire(peer, encoded.data.length, { signal });
        const rawLength = Math.min(blockSize, narSize - index * blockSize);
        await sendParts(
          stream,
          encodeFrameParts({
            kind: "block",
            id: msg.id,
            index,
            encoding: encoded.encoding,
            rawLength,
            data: encoded.data,
          }),
          signal,
          this.#stallMs,
        );
        this.#o.peerBook.traffic(peer, "up", encoded.data.length);
        this.#o.emit("block:served", {
          peer,
          narHash: hex,
          index,
          bytes: encoded.data.length,
          encoding: encoded.encoding,
        });
      }
    } finally {
      unpin();
    }
  }
}
