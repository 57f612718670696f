/**
 * One NAR downloaded from several peers at once (docs/protocol.md §3–4):
 * the scheduler decides which blocks to ask whom; each block is decoded,
 * checked against the manifest and written at its offset in the block cache;
 * the verified contiguous prefix streams to consumers while the download
 * continues. Peers that send bad blocks are penalised and dropped; timeouts
 * requeue; partial peers' availability is refreshed; new providers join
 * (`discover`); a download that no remaining peer can finish fails, so the
 * planner can continue from the same byte with another source.
 *
 * The whole-NAR check against the NarHash is the consumer's (the planner's):
 * this class only promises that every byte matches the manifest.
 *
 * @example
 * ```ts
 * const download = new SwarmDownload({ entry, manifest, channels, ... });
 * download.start();
 * const stream = download.prefix(0);
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import type { CacheEntry } from "../store/deno_block_cache.ts";
import type { PeerBook } from "../peer_book.ts";
import type { FairRateLimiter } from "../rate/mod.ts";
import { BlockScheduler } from "../scheduler/mod.ts";
import {
  type BlockMessage,
  decodeBlock,
  type ErrorCode,
  type Manifest,
  verifyBlock,
} from "../wire/mod.ts";
import { manifestKey } from "../wire/manifest.ts";
import { PrefixHash } from "./_prefix_hash.ts";
import { BlockProgress } from "./_progress.ts";
import { DownloadWatchdog } from "./_watchdog.ts";
import type { BlockChannel, ChannelHandlers } from "./channel.ts";
import type { BulkOrigin } from "./peer_link.ts";

/**
 * Largest chunk the verified-prefix stream delivers at once: contiguous
 * blocks already present are read together, so the consumer (hashing, the
 * control socket, the helper) handles fewer, larger chunks.
 */
const PREFIX_CHUNK = 4 * 1024 * 1024;

/**
 * Verified block bytes received but not yet written to the cache, at most:
 * past it, links wait for the disk (the peer's sends back up through TCP).
 */
const MAX_WRITING_BYTES = 16 * 1024 * 1024;

/**
 * NARs up to this size are hashed whole as their blocks are written, on the
 * event loop (larger ones are checked on a worker thread once complete,
 * `store/check_entry.ts`, reading them back).
 */
const INCREMENTAL_HASH_BYTES = 64 * 1024 * 1024;

/** Events of a download. */
export interface DownloadEvents {
  "download:block": { narHash: string; peer: string; index: number; wireBytes: number };
  "peer:penalised": { peer: string; reason: string; banned: boolean };
  "download:peer-dropped": { narHash: string; peer: string; reason: string };
}

/** Options of {@linkcode SwarmDownload}. */
export interface SwarmDownloadOptions {
  entry: CacheEntry;
  manifest: Manifest;
  peerBook: PeerBook;
  limiter: FairRateLimiter;
  requestTimeoutMs: number;
  /** Give up when no block arrives for this long and nobody can provide what is missing. */
  stallTimeoutMs: number;
  /** Opens channels to more peers offering the same manifest (called when stuck or periodically). */
  discover?: (exclude: Set<string>) => Promise<BlockChannel[]>;
  /** Look for more providers every few seconds while fewer peers than this are used (default: never). */
  maxPeers?: number;
  emit: <K extends keyof DownloadEvents>(type: K, payload: DownloadEvents[K]) => void;
  /** Opens a channel to a peer; the download sets the handlers. */
  channels: (handlers: ChannelHandlers) => Promise<BlockChannel[]>;
}

/** A running download. */
export class SwarmDownload {
  #o: SwarmDownloadOptions;
  #hex: string;
  #scheduler: BlockScheduler;
  #channels = new Map<string, BlockChannel>();
  #requests = new Map<string, Map<number, number>>(); // peer → index → request id
  #faults = new Map<string, number>();
  #done: PromiseWithResolvers<void> = Promise.withResolvers();
  #finished = false;
  #watchdog: DownloadWatchdog;
  #unpin: () => void;
  #progress: BlockProgress;
  #key: string;
  #wireBytes = 0;
  #byPeer = new Map<string, number>();
  /** Blocks received and verified, being written to the cache. */
  #writing = new Set<number>();
  #writingBytes = 0;
  /** Peers not asked for more while the writes lag behind. */
  #throttled = new Set<string>();
  /** The whole-NAR hash, kept up as blocks are written (NARs up to INCREMENTAL_HASH_BYTES). */
  #prefixHash: PrefixHash | undefined;

  /** Creates the download (call {@linkcode start}). */
  constructor(options: SwarmDownloadOptions) {
    this.#o = options;
    this.#hex = hexEncode(options.manifest.narHash);
    this.#scheduler = new BlockScheduler({
      blockCount: options.manifest.blockCount,
      now: () => performance.now(),
      requestTimeoutMs: options.requestTimeoutMs,
      // Its own tie order: leechers of a flash crowd fetch different blocks.
      tieSeed: crypto.getRandomValues(new Uint32Array(1))[0]!,
    });
    for (let i = 0; i < options.manifest.blockCount; i++) {
      if (options.entry.has(i)) this.#scheduler.markPresent(i);
    }
    this.#unpin = options.entry.pin();
    this.#progress = new BlockProgress(options.entry, options.manifest);
    if (options.manifest.narSize <= INCREMENTAL_HASH_BYTES) {
      this.#prefixHash = new PrefixHash(options.entry);
    }
    this.#key = manifestKey(options.manifest);
    this.#done.promise.catch(() => {});
    this.#watchdog = new DownloadWatchdog({
      scheduler: this.#scheduler,
      finished: () => this.#finished,
      peers: () => new Set(this.#channels.keys()),
      drop: (peer, reason) => this.#drop(peer, reason),
      refreshPartialPeers: () => this.#refreshPartialPeers(),
      addChannels: (channels) => this.addChannels(channels),
      fail: (error) => this.#fail(error),
      pumpAll: () => this.#pumpAll(),
    }, options);
  }

  /** Resolves when every block is present (and matches the manifest); rejects when the download fails. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** The manifest the download follows. */
  get manifest(): Manifest {
    return this.#o.manifest;
  }

  /** The cache entry being filled. */
  get entry(): CacheEntry {
    return this.#o.entry;
  }

  /**
   * The SHA-256 of the whole NAR once the download is complete, when it was
   * computed as the blocks were written (small NARs); undefined otherwise (the
   * entry is then checked by reading it back).
   */
  narDigest(): Promise<Uint8Array | undefined> {
    if (!this.#prefixHash || !this.#o.entry.complete) return Promise.resolve(undefined);
    return this.#prefixHash.digest();
  }

  /** Bytes received from peers (as sent: compressed). */
  get wireBytes(): number {
    return this.#wireBytes;
  }

  /** NAR bytes contributed by each peer. */
  contributions(): Record<string, number> {
    return Object.fromEntries(this.#byPeer);
  }

  /** Peers currently used. */
  get peers(): string[] {
    return [...this.#channels.keys()];
  }

  /** Starts requesting blocks. */
  async start(): Promise<void> {
    const handlers: ChannelHandlers = {
      block: (ch, msg, bulk) => this.#onBlock(ch, msg, bulk),
      blockError: (ch, index, code) => this.#onBlockError(ch, index, code),
      closed: (ch, error, fault) => this.#onClosed(ch, error, fault),
    };
    this.#handlers = handlers;
    for (const ch of await this.#o.channels(handlers)) this.#add(ch);
    this.#watchdog.discovered(); // the providers were just looked up
    if (this.#scheduler.done) return this.#finish();
    this.#watchdog.start();
    this.#pumpAll();
  }

  #handlers: ChannelHandlers | undefined;

  /** Handlers to give channels opened later (by `discover`). */
  get handlers(): ChannelHandlers {
    return this.#handlers!;
  }

  /** Stops the download (consumers see `reason`). */
  abort(reason: Error): void {
    this.#fail(reason);
  }

  #add(ch: BlockChannel): void {
    if (this.#channels.has(ch.peer) || this.#finished) {
      ch.close();
      return;
    }
    const have = this.#manifestOf.get(ch.peer);
    this.#channels.set(ch.peer, ch);
    this.#requests.set(ch.peer, new Map());
    this.#scheduler.addPeer(ch.peer, have && !have.isFull ? have : "all");
  }

  /** Availability of peers that are still downloading, by peer (from their manifests). */
  #manifestOf = new Map<string, Manifest["have"]>();

  /** Records a peer's manifest have-bitfield (call before adding its channel, and on refresh). */
  setHave(peer: string, have: Manifest["have"]): void {
    this.#manifestOf.set(peer, have);
    if (this.#scheduler.hasPeer(peer)) this.#scheduler.updateHave(peer, have.isFull ? "all" : have);
  }

  /** Adds channels found later (same manifest). */
  addChannels(channels: BlockChannel[]): void {
    for (const ch of channels) this.#add(ch);
    this.#pumpAll();
  }

  #pumpAll(): void {
    for (const peer of this.#channels.keys()) this.#pump(peer);
  }

  #pump(peer: string): void {
    if (this.#finished) return;
    if (this.#writingBytes > MAX_WRITING_BYTES) {
      // Nothing more is asked of anyone until the disk catches up.
      this.#throttled.add(peer);
      return;
    }
    const ch = this.#channels.get(peer);
    if (!ch || ch.closed) return;
    const indexes = this.#scheduler.next(peer);
    if (indexes.length === 0) return;
    const reqs = this.#requests.get(peer)!;
    const bytes = indexes.length * this.#o.manifest.blockSize;
    void this.#o.limiter.acquire("download", bytes).then(() => {
      if (this.#finished || ch.closed) return;
      // Endgame duplicates go one per request, so a CANCEL names exactly one block.
      const groups = this.#scheduler.endgame ? indexes.map((i) => [i]) : [indexes];
      for (const group of groups) {
        const id = ch.requestBlocks(this.#o.manifest.narHash, group);
        for (const i of group) reqs.set(i, id);
      }
    });
  }

  async #onBlock(ch: BlockChannel, msg: BlockMessage, bulk?: BulkOrigin): Promise<void> {
    this.#requests.get(ch.peer)?.delete(msg.index);
    if (this.#finished || !this.#scheduler.hasPeer(ch.peer)) return;
    const { index } = msg;
    let raw: Uint8Array;
    try {
      raw = decodeBlock(msg.encoding, msg.data, msg.rawLength);
    } catch (e) {
      return this.#bad(ch, index, `undecodable block ${index}: ${(e as Error).message}`, bulk);
    }
    if (!verifyBlock(this.#o.manifest, index, raw)) {
      return this.#bad(ch, index, `block ${index} does not match the manifest`, bulk);
    }
    if (this.#o.entry.has(index) || this.#writing.has(index)) {
      this.#scheduler.received(ch.peer, index, msg.data.length);
      return this.#pump(ch.peer);
    }
    // The block counts as present (for readers, and for the end of the download) once it is
    // written; the link does not wait for the write unless too much waits to be written.
    this.#writing.add(index);
    this.#writingBytes += raw.length;
    const written = this.#o.entry.writeBlock(index, raw).then(
      () => this.#written(index, raw),
      // A full or failing disk is ours, not the peer's: the download ends and the caller
      // falls back (HTTP), instead of an unhandled rejection.
      (e) => this.#fail(new Error(`writing block ${index} to the cache: ${(e as Error).message}`)),
    );
    this.#wireBytes += msg.data.length;
    this.#byPeer.set(ch.peer, (this.#byPeer.get(ch.peer) ?? 0) + raw.length);
    this.#o.peerBook.traffic(ch.peer, "down", msg.data.length);
    const { duplicateAt } = this.#scheduler.received(ch.peer, index, msg.data.length);
    for (const other of duplicateAt) {
      const id = this.#requests.get(other)?.get(index);
      if (id !== undefined) {
        this.#channels.get(other)?.cancel(id, [index]);
        this.#requests.get(other)!.delete(index);
      }
      this.#pump(other);
    }
    this.#watchdog.progressed();
    this.#o.emit("download:block", {
      narHash: this.#hex,
      peer: ch.peer,
      index,
      wireBytes: msg.data.length,
    });
    if (this.#scheduler.done) return;
    // Backpressure: with too much still to write, this link reads no further until this
    // block is written (the writes of an entry are done in order: all before it, too).
    if (this.#writingBytes > MAX_WRITING_BYTES) {
      this.#throttled.add(ch.peer);
      return await written;
    }
    this.#pump(ch.peer);
  }

  #written(index: number, raw: Uint8Array): void {
    this.#writing.delete(index);
    this.#writingBytes -= raw.length;
    this.#prefixHash?.written(index, raw);
    if (this.#finished) return;
    this.#signal();
    if (this.#scheduler.done) {
      if (this.#writing.size === 0) this.#finish();
      return;
    }
    if (this.#writingBytes <= MAX_WRITING_BYTES && this.#throttled.size > 0) {
      const peers = [...this.#throttled];
      this.#throttled.clear();
      for (const peer of peers) this.#pump(peer);
    }
  }

  #bad(ch: BlockChannel, index: number, reason: string, bulk?: BulkOrigin): void {
    if (bulk) {
      // On plain TCP the bytes may have been changed on the way: the lane goes, the peer stays,
      // and the block is asked again on the encrypted stream.
      bulk.distrust(reason);
      this.#scheduler.failed(ch.peer, index, "error");
      this.#pumpAll();
      return;
    }
    this.#scheduler.rejected(ch.peer, index);
    const { banned } = this.#o.peerBook.fault(ch.peer, reason);
    this.#o.emit("peer:penalised", { peer: ch.peer, reason, banned });
    const faults = (this.#faults.get(ch.peer) ?? 0) + 1;
    this.#faults.set(ch.peer, faults);
    if (banned || faults >= 2) {
      this.#drop(ch.peer, `dropped after ${faults} bad block(s): ${reason}`);
    }
    this.#pumpAll();
  }

  #onBlockError(ch: BlockChannel, index: number, code: ErrorCode | "not-found"): void {
    this.#requests.get(ch.peer)?.delete(index);
    if (this.#finished || !this.#scheduler.hasPeer(ch.peer)) return;
    if (code === "not-found") {
      this.#drop(ch.peer, "no longer has the item");
      return;
    }
    this.#scheduler.failed(
      ch.peer,
      index,
      code === "not-available" ? "not-available" : code === "busy" ? "busy" : "error",
    );
    this.#pumpAll();
  }

  #onClosed(ch: BlockChannel, error?: Error, fault?: boolean): void {
    if (fault && error) {
      const { banned } = this.#o.peerBook.fault(ch.peer, `protocol violation: ${error.message}`);
      this.#o.emit("peer:penalised", { peer: ch.peer, reason: error.message, banned });
    }
    if (this.#channels.get(ch.peer) === ch) {
      // Some libp2p errors carry no message: name the class at least.
      this.#drop(ch.peer, error ? error.message || error.name || String(error) : "stream closed");
    }
  }

  #drop(peer: string, reason: string): void {
    const ch = this.#channels.get(peer);
    if (!ch) return;
    this.#channels.delete(peer);
    this.#requests.delete(peer);
    if (this.#scheduler.hasPeer(peer)) this.#scheduler.removePeer(peer);
    ch.close();
    this.#o.emit("download:peer-dropped", { narHash: this.#hex, peer, reason });
    this.#pumpAll();
    if (this.#channels.size === 0 && !this.#finished) this.#watchdog.check(true);
  }

  #refreshPartialPeers(): void {
    for (const [peer, have] of this.#manifestOf) {
      const ch = this.#channels.get(peer);
      if (!ch || have.isFull) continue;
      ch.manifest(this.#o.manifest.narHash, this.#o.requestTimeoutMs).then((m) => {
        if (this.#finished || this.#channels.get(peer) !== ch) return;
        if (m === "not-found") return this.#drop(peer, "no longer has the item");
        // Only its availability may change: another layout or other hashes is another
        // manifest (a peer switching sides), not a refresh.
        if (manifestKey(m) !== this.#key || m.have.size !== this.#o.manifest.blockCount) {
          return this.#drop(peer, "its manifest changed");
        }
        this.setHave(peer, m.have);
        this.#pump(peer);
      }).catch(() => {});
    }
  }

  #signal(): void {
    this.#progress.changed();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#cleanup();
    this.#done.resolve();
    this.#progress.end();
  }

  #fail(error: Error): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#cleanup();
    this.#done.reject(error);
    this.#progress.end(error);
  }

  #cleanup(): void {
    this.#watchdog.stop();
    // Detach first: a finished download's channels closing is not a peer being dropped.
    const channels = [...this.#channels.values()];
    this.#channels.clear();
    for (const ch of channels) ch.close();
    this.#unpin();
    this.#o.entry.persist().catch(() => {});
  }

  /** NAR bytes of the contiguous prefix present from byte 0 (every block matches the manifest). */
  prefixLength(): number {
    return this.#progress.prefixLength();
  }

  /**
   * Resolves with {@linkcode prefixLength} once it exceeds `bytes` (or the
   * whole NAR is present); rejects when the download fails first.
   */
  grown(bytes: number, signal?: AbortSignal): Promise<number> {
    return this.#progress.grown(bytes, signal);
  }

  /**
   * The NAR from byte `offset`, as fast as the verified contiguous prefix
   * grows. Errors if the download fails before reaching the end.
   */
  prefix(offset: number): ReadableStream<Uint8Array> {
    return this.#progress.stream(offset, PREFIX_CHUNK);
  }
}
