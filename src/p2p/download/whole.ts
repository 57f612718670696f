/**
 * Small NARs (at most 4 MiB: most items of a real closure) fetched whole from
 * one peer with `GET_NARS`, many per request: requests to the same peer made
 * in the same turn of the event loop share one message, so a closure's small
 * items cost a round trip per peer, not a manifest and a block request per
 * item. Each NAR is checked against its signed NarHash before it is kept —
 * a peer that sends anything else is penalised and the next provider is
 * asked — then stored in the block cache as a verified entry (with the
 * default block layout, so it is served to others like any seed).
 *
 * @example
 * ```ts
 * const whole = new WholeFetcher({ links, availability, cache, peerBook, limiter, blockSize: 262144, emit });
 * const entry = await whole.fetch({ narHash, narSize, storePath }, providers);
 * entry.verified; // true
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import { abortable } from "../../std/async.ts";
import type { BlockCache, CacheEntry } from "../store/deno_block_cache.ts";
import type { PeerBook } from "../peer_book.ts";
import type { FairRateLimiter } from "../rate/mod.ts";
import { BlockHasher, decodeBlock, type Manifest, MAX_NARS, MAX_WHOLE_NAR } from "../wire/mod.ts";
import type { Availability, Provider } from "./availability.ts";
import type { PeerLinks } from "./links.ts";
import type { NarReply } from "./peer_link.ts";

/** What is fetched. */
export interface WholeTarget {
  narHash: Uint8Array;
  narSize: number;
  storePath?: string;
}

/** Events of whole fetches. */
export interface WholeFetchEvents {
  "peer:penalised": { peer: string; reason: string; banned: boolean };
  "download:whole": { narHash: string; peer: string; bytes: number; wireBytes: number };
}

/** Options of {@linkcode WholeFetcher}. */
export interface WholeFetcherInit {
  links: PeerLinks;
  availability: Availability;
  cache: BlockCache;
  peerBook: PeerBook;
  limiter: FairRateLimiter;
  /** Block size of the cache entries written. */
  blockSize: number;
  /** Give up on a peer that sends nothing for this long. Default 20 s. */
  stallMs?: number;
  /**
   * Time one NAR may take over all the peers asked, at least: then the
   * fetch gives up (the caller falls back to HTTP) rather than try the next
   * provider. It grows by a second per 64 KiB of NAR. Default 15 s.
   */
  budgetMs?: number;
  /** NAR bytes asked of one peer at once (more wait). Default 32 MiB. */
  maxInFlightPerPeer?: number;
  emit: <K extends keyof WholeFetchEvents>(type: K, payload: WholeFetchEvents[K]) => void;
}

/** Raised when no provider could give the NAR. */
export class WholeFetchError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "WholeFetchError";
  }
}

interface Job {
  target: WholeTarget;
  hex: string;
  resolve: (reply: NarReply) => void;
}

interface PeerQueue {
  waiting: Job[];
  inFlight: number;
  scheduled: boolean;
}

/** Fetches whole small NARs, batched per peer. */
export class WholeFetcher {
  #o: WholeFetcherInit;
  #running = new Map<string, Promise<CacheEntry>>();
  #queues = new Map<string, PeerQueue>();
  #wireBytes = 0;
  /** Wire bytes of recent fetches, by NarHash (bounded), for progress reports. */
  #wireOf = new Map<string, number>();

  /** Creates the fetcher. */
  constructor(init: WholeFetcherInit) {
    this.#o = init;
  }

  /** Bytes received for whole NARs (as sent: compressed). */
  get wireBytes(): number {
    return this.#wireBytes;
  }

  /** Bytes the last fetch of `hex` took on the wire (0 if unknown). */
  wireBytesOf(hex: string): number {
    return this.#wireOf.get(hex) ?? 0;
  }

  /** The fetch of `narHash` in progress, if any. */
  running(narHash: Uint8Array | string): Promise<CacheEntry> | undefined {
    return this.#running.get(typeof narHash === "string" ? narHash : hexEncode(narHash));
  }

  /**
   * The verified cache entry of `target`, fetched from `providers` (complete
   * ones, best first) unless it is cached or already being fetched.
   * Callers of the same NAR share one fetch: `signal` stops this caller's
   * wait, not the fetch (it is bounded by its own time budget).
   */
  fetch(target: WholeTarget, providers: Provider[], signal?: AbortSignal): Promise<CacheEntry> {
    if (target.narSize > MAX_WHOLE_NAR) {
      return Promise.reject(new RangeError(`NAR of ${target.narSize} bytes is not small`));
    }
    const hex = hexEncode(target.narHash);
    const cached = this.#o.cache.get(hex);
    if (cached?.verified && cached.complete) return Promise.resolve(cached);
    let work = this.#running.get(hex);
    if (!work) {
      work = this.#fetch(target, hex, providers).finally(() => this.#running.delete(hex));
      work.catch(() => {}); // every caller sees the error; none left unhandled
      this.#running.set(hex, work);
    }
    return abortable(work, signal);
  }

  async #fetch(target: WholeTarget, hex: string, providers: Provider[]): Promise<CacheEntry> {
    const tried: string[] = [];
    const candidates = providers.filter((p) => p.state === "complete");
    const budgetMs = (this.#o.budgetMs ?? 15_000) + Math.floor(target.narSize / 65_536) * 1000;
    const deadline = AbortSignal.timeout(budgetMs);
    for (let attempt = 0; attempt < 4; attempt++) {
      const left = candidates.filter((p) =>
        !tried.includes(p.peer) && !this.#o.peerBook.isBanned(p.peer)
      );
      if (left.length === 0) break;
      // The least busy provider (ties: the order given, best first).
      const provider = left.reduce((best, p) =>
        this.#load(p.peer) < this.#load(best.peer) ? p : best
      );
      tried.push(provider.peer);
      let reply: NarReply;
      try {
        reply = await abortable(this.#ask(provider, target, hex), deadline);
      } catch {
        // Slow is not malicious: no fault, but this peer is not asked for it again soon.
        this.#o.availability.forget(hex, provider.peer);
        throw new WholeFetchError(
          `no peer gave the NAR within ${budgetMs / 1000} s (asked ${tried.length})`,
        );
      }
      if (reply.kind === "not-found") {
        this.#o.availability.forget(hex, provider.peer);
        continue;
      }
      if (reply.kind === "error") continue;
      const { message } = reply;
      let bytes: Uint8Array;
      let manifest: Manifest;
      try {
        if (message.rawLength !== target.narSize) {
          throw new Error(`${message.rawLength} bytes, the signed NarSize is ${target.narSize}`);
        }
        bytes = decodeBlock(message.encoding, message.data, message.rawLength);
        // One pass gives the block hashes (for the cache entry) and the NarHash checked here.
        manifest = new BlockHasher(this.#o.blockSize).update(bytes).finish();
        if (hexEncode(manifest.narHash) !== hex) throw new Error("does not match its NarHash");
      } catch (e) {
        const reason = `NAR ${hex.slice(0, 16)}…: ${(e as Error).message}`;
        if (reply.bulk) {
          // Plain TCP may have been tampered with on the way: drop the lane, not the peer,
          // and ask the same peer again on the encrypted stream.
          reply.bulk.distrust(reason);
          tried.pop();
          continue;
        }
        const { banned } = this.#o.peerBook.fault(provider.peer, reason);
        this.#o.emit("peer:penalised", { peer: provider.peer, reason, banned });
        this.#o.availability.forget(hex, provider.peer);
        continue;
      }
      this.#wireBytes += message.data.length;
      this.#wireOf.set(hex, message.data.length);
      if (this.#wireOf.size > 4096) this.#wireOf.delete(this.#wireOf.keys().next().value!);
      this.#o.peerBook.traffic(provider.peer, "down", message.data.length);
      const entry = await this.#store(target, manifest, bytes);
      this.#o.emit("download:whole", {
        narHash: hex,
        peer: provider.peer,
        bytes: bytes.length,
        wireBytes: message.data.length,
      });
      return entry;
    }
    throw new WholeFetchError(
      tried.length === 0
        ? "no peer offers the whole NAR"
        : `no peer gave the NAR (asked ${tried.length})`,
    );
  }

  async #store(target: WholeTarget, manifest: Manifest, bytes: Uint8Array): Promise<CacheEntry> {
    const entry = await this.#o.cache.open({
      narHash: manifest.narHash,
      narSize: manifest.narSize,
      blockSize: manifest.blockSize,
      hashes: manifest.hashes,
    }, target.storePath);
    // Each run of missing blocks (usually all of them) in one write.
    for (let i = 0; i < manifest.blockCount;) {
      if (entry.has(i)) {
        i++;
        continue;
      }
      let end = i + 1;
      while (end < manifest.blockCount && !entry.has(end)) end++;
      const from = entry.range(i).offset;
      const last = entry.range(end - 1);
      await entry.writeBlocks(i, bytes.subarray(from, last.offset + last.length));
      i = end;
    }
    await entry.markVerified(target.storePath);
    return entry;
  }

  #load(peer: string): number {
    const q = this.#queues.get(peer);
    return q ? q.inFlight + q.waiting.reduce((n, j) => n + j.target.narSize, 0) : 0;
  }

  #ask(provider: Provider, target: WholeTarget, hex: string): Promise<NarReply> {
    const { promise, resolve } = Promise.withResolvers<NarReply>();
    let q = this.#queues.get(provider.peer);
    if (!q) {
      q = { waiting: [], inFlight: 0, scheduled: false };
      this.#queues.set(provider.peer, q);
    }
    q.waiting.push({ target, hex, resolve });
    this.#schedule(provider, q);
    return promise;
  }

  #schedule(provider: Provider, q: PeerQueue): void {
    if (q.scheduled) return;
    q.scheduled = true;
    // One macrotask later: every request made in this turn joins the batch.
    setTimeout(() => {
      q.scheduled = false;
      void this.#send(provider, q);
    }, 0);
  }

  async #send(provider: Provider, q: PeerQueue): Promise<void> {
    const max = this.#o.maxInFlightPerPeer ?? 32 * 1024 * 1024;
    const batch: Job[] = [];
    let bytes = 0;
    while (q.waiting.length > 0 && batch.length < MAX_NARS) {
      const next = q.waiting[0]!;
      if (batch.length > 0 && q.inFlight + bytes + next.target.narSize > max) break;
      if (batch.length === 0 && q.inFlight > 0 && q.inFlight + next.target.narSize > max) break;
      batch.push(q.waiting.shift()!);
      bytes += next.target.narSize;
    }
    if (batch.length === 0) return;
    q.inFlight += bytes;
    const done = (job: Job, reply: NarReply) => {
      q.inFlight -= job.target.narSize;
      job.resolve(reply);
    };
    const answered = new Set<number>();
    try {
      await this.#o.limiter.acquire("download", bytes);
      const link = await this.#o.links.get(provider.peerId);
      await link.nars(
        batch.map((j) => j.target.narHash),
        (i, reply) => {
          answered.add(i);
          done(batch[i]!, reply);
        },
        this.#o.stallMs ?? 20_000,
      );
    } catch (e) {
      batch.forEach((job, i) => {
        if (!answered.has(i)) {
          done(job, { kind: "error", code: "internal", message: (e as Error).message });
        }
      });
    } finally {
      if (q.waiting.length > 0) this.#schedule(provider, q);
      if (q.waiting.length === 0 && q.inFlight === 0) this.#queues.delete(provider.peer);
    }
  }
}
