/**
 * The responder side of the narinfo exchange (docs/protocol.md §6): answers
 * each `GET_NARINFOS` with the signed narinfos this node holds — byte for
 * byte as signed, only those signed by one of the requester's keys — and an
 * explicit "not held" for the others, at once, from what the daemon holds
 * ({@linkcode NarinfoHoldings}). Bounded: requests of at most 64 KiB and
 * 1024 hash parts, `max_streams_per_peer` streams per peer, a per-peer rate
 * of hash parts (`narinfo_serve_rate`; past it the request gets `ERROR busy`),
 * and a stream whose reader stops taking replies is reset after the stall
 * timeout. A malformed request resets the stream.
 *
 * @example
 * ```ts
 * const server = new NarinfoServer({ node, peerBook, holdings: () => held, ratePerSecond: 2000, maxStreamsPerPeer: 4, emit });
 * await server.start();
 * ```
 * @module
 */
import type { Connection, Stream } from "@libp2p/interface";
import { sendParts } from "../_channel.ts";
import type { P2pNode } from "../node.ts";
import type { PeerBook } from "../peer_book.ts";
import { TokenBucket } from "../rate/mod.ts";
import { readNarinfoFrames } from "./decode.ts";
import { encodeNarinfoFrame, packNarinfos } from "./encode.ts";
import {
  MAX_NARINFO_MESSAGE,
  MAX_NARINFO_REQUEST,
  NARINFO_PROTOCOL,
  type NarinfoFlavour,
} from "./messages.ts";
import { PeerStreams } from "../_peer_streams.ts";

/** What this node holds: the daemon's verified narinfos (see src/daemon/held_narinfos.ts). */
export interface NarinfoHoldings {
  /**
   * The narinfo text held for each hash part (same order), or undefined:
   * only narinfos this node verified, signed by one of `keys` (32-byte
   * public keys; undefined: any key this node trusts).
   */
  held(
    flavour: NarinfoFlavour,
    hashParts: readonly string[],
    keys: readonly Uint8Array[] | undefined,
  ): Promise<(string | undefined)[]>;
}

/** Events of the server. */
export interface NarinfoServerEvents {
  "narinfo:served": { peer: string; flavour: string; asked: number; found: number; ms: number };
  "narinfo:busy": { peer: string; asked: number };
  "stream:rejected": { peer: string; reason: string };
}

/** Options of {@linkcode NarinfoServer}. */
export interface NarinfoServerInit {
  node: P2pNode;
  peerBook: PeerBook;
  /** What is held now (undefined: nothing yet). */
  holdings: () => NarinfoHoldings | undefined;
  /** Hash parts answered per second per peer (`narinfo_serve_rate`); the burst is 4096 or 2 s. */
  ratePerSecond: number;
  maxStreamsPerPeer: number;
  /** A stream whose reader takes no reply for this long is reset. Default 30 s. */
  stallTimeoutMs?: number;
  emit: <K extends keyof NarinfoServerEvents>(type: K, payload: NarinfoServerEvents[K]) => void;
}

/** Most peers whose rate buckets are kept (least recently used out). */
const MAX_BUCKETS = 4096;

/** Serves `/guix-p2p/narinfo/1.0.0`. */
export class NarinfoServer {
  #o: NarinfoServerInit;
  #streams = new PeerStreams();
  #buckets = new Map<string, TokenBucket>();
  #abort = new AbortController();

  /** Creates the server (call {@linkcode start}). */
  constructor(init: NarinfoServerInit) {
    this.#o = init;
  }

  /** Registers the protocol handler. */
  async start(): Promise<void> {
    await this.#o.node.handle(NARINFO_PROTOCOL, (stream, conn) => this.#serve(stream, conn), {
      maxInboundStreams: this.#o.maxStreamsPerPeer,
    });
  }

  /** Unregisters the handler and aborts the streams being served. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error("node stopping"));
    await this.#o.node.unhandle(NARINFO_PROTOCOL).catch(() => {});
  }

  #bucket(peer: string): TokenBucket {
    let bucket = this.#buckets.get(peer);
    if (bucket) {
      this.#buckets.delete(peer);
    } else {
      const rate = this.#o.ratePerSecond;
      bucket = new TokenBucket({ bytesPerSecond: rate, burst: Math.max(4096, 2 * rate) });
      if (this.#buckets.size >= MAX_BUCKETS) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
    }
    this.#buckets.set(peer, bucket);
    return bucket;
  }

  async #serve(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const full = this.#streams.count(peer) >= this.#o.maxStreamsPerPeer;
    if (this.#o.peerBook.isBanned(peer) || full) {
      this.#o.emit("stream:rejected", {
        peer,
        reason: full ? "too many narinfo streams" : "banned",
      });
      stream.abort(new Error("refused"));
      return;
    }
    this.#streams.add(peer);
    const signal = this.#abort.signal;
    const stallMs = this.#o.stallTimeoutMs ?? 30_000;
    try {
      for await (
        const msg of readNarinfoFrames(stream, {
          accept: "requests",
          maxMessageSize: MAX_NARINFO_REQUEST,
          signal,
        })
      ) {
        if (msg.kind !== "get-narinfos") continue; // the decoder accepts requests only
        const t0 = performance.now();
        if (!this.#bucket(peer).tryTake(msg.hashParts.length)) {
          this.#o.emit("narinfo:busy", { peer, asked: msg.hashParts.length });
          const busy = encodeNarinfoFrame({
            kind: "error",
            id: msg.id,
            code: "busy",
            message: `more than ${this.#o.ratePerSecond} narinfos per second`,
          });
          await sendParts(stream, [busy], signal, stallMs);
          continue;
        }
        const held = await this.#o.holdings()?.held(msg.flavour, msg.hashParts, msg.keys)
          .catch(() => undefined);
        const entries = msg.hashParts.map((_, i) => held?.[i] ?? null);
        const frames = packNarinfos(msg.id, entries, MAX_NARINFO_MESSAGE).map(encodeNarinfoFrame);
        await sendParts(stream, frames, signal, stallMs);
        this.#o.emit("narinfo:served", {
          peer,
          flavour: msg.flavour,
          asked: msg.hashParts.length,
          found: entries.filter((e) => e !== null).length,
          ms: performance.now() - t0,
        });
      }
      await stream.close().catch(() => {});
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      if (!signal.aborted) {
        this.#o.emit("stream:rejected", { peer, reason: `narinfo stream reset: ${error.message}` });
      }
      stream.abort(error);
    } finally {
      this.#streams.remove(peer);
    }
  }
}
