/**
 * Who can serve which NAR, for whole batches at once. Connected peers are
 * asked first with one `HAVE` per peer for the whole batch (one round trip
 * on a LAN, however many items); only items no connected peer has go to
 * the DHT, looked up in parallel (bounded) within their size-aware budget;
 * with no DHT peers at all nothing is looked up. Answers are cached
 * (positive ones longer than negative ones), so the `have`/`info` queries
 * that precede a closure's substitutions also prepare them: a later fetch
 * usually knows its providers without any network round trip.
 *
 * @example
 * ```ts
 * const availability = new Availability({ node: () => node, links, peerBook, minProviders: 1, discoveryTimeout: 2 });
 * const found = await availability.query([{ narHash, narSize }], { dht: true });
 * found.get(hexEncode(narHash)); // [{ peer: "12D3KooW…", state: "complete", via: "connected" }]
 * ```
 * @module
 */
import type { PeerId } from "@libp2p/interface";
import { hexEncode } from "../../encoding/hex.ts";
import { discoveryBudgetMs, findProviders } from "../discovery.ts";
import type { P2pNode } from "../node.ts";
import type { PeerBook } from "../peer_book.ts";
import { BLOCKS_PROTOCOL, type HaveState, MAX_HAVE_HASHES } from "../wire/mod.ts";
import type { PeerLinks } from "./links.ts";

/** A peer that (says it) can serve a NAR. */
export interface Provider {
  peerId: PeerId;
  peer: string;
  /** `complete`: it verified the whole NAR; `partial`: a download in progress (a relay). */
  state: "complete" | "partial";
  /** How we learnt it. */
  via: "connected" | "dht";
}

/** What is asked about: the NAR's digest and size (the size sets the DHT budget). */
export interface AvailabilityTarget {
  narHash: Uint8Array;
  narSize: number;
}

/** Options of {@linkcode Availability}. */
export interface AvailabilityInit {
  node: () => P2pNode;
  links: PeerLinks;
  peerBook: PeerBook;
  /** Providers wanted before the DHT is not asked any more. */
  minProviders: number;
  /** `discovery_timeout` in seconds (scaled by NAR size). */
  discoveryTimeout: number;
  /** Most providers kept per NAR. */
  maxProviders?: number;
  /** Connected peers asked with `HAVE` per batch, best first. Default 32. */
  maxAsked?: number;
  /** Concurrent DHT lookups. Default 16. */
  dhtConcurrency?: number;
  /** Bound on one `HAVE` round trip (a peer that misses it is skipped for a minute). Default 2000 ms. */
  haveTimeoutMs?: number;
  /** How long a positive answer is trusted. Default 5 min. */
  positiveTtlMs?: number;
  /** How long a negative answer is trusted. Default 30 s. */
  negativeTtlMs?: number;
  /** Called after each DHT lookup (for events). */
  onDhtLookup?: (hex: string, found: number, ms: number) => void;
  now?: () => number;
}

interface Known {
  /** Providers by peer id. */
  providers: Map<string, Provider>;
  /** Connected peers asked, with the time of their answer. */
  asked: Map<string, number>;
  /** When the DHT was last asked (0: never). */
  dhtAt: number;
  dhtFound: number;
}

/** The availability index. */
export class Availability {
  #o: AvailabilityInit;
  #known = new Map<string, Known>();
  #dhtRunning = new Map<string, Promise<void>>();
  /** Connected peers that let a `HAVE` time out: not asked again until then. */
  #unresponsive = new Map<string, number>();
  #now: () => number;

  /** Creates the index. */
  constructor(init: AvailabilityInit) {
    this.#o = init;
    this.#now = init.now ?? Date.now;
  }

  /** Providers known now (no network), best first. */
  known(narHash: Uint8Array | string): Provider[] {
    const hex = typeof narHash === "string" ? narHash : hexEncode(narHash);
    const k = this.#known.get(hex);
    if (!k) return [];
    return this.#ranked(k);
  }

  /** Forgets that `peer` can serve `narHash` (it said not-found, or failed). */
  forget(narHash: Uint8Array | string, peer: string): void {
    const hex = typeof narHash === "string" ? narHash : hexEncode(narHash);
    this.#known.get(hex)?.providers.delete(peer);
  }

  /** Records that `peer` serves `narHash` (e.g. it answered a manifest). */
  add(narHash: Uint8Array, provider: Provider): void {
    this.#entry(hexEncode(narHash)).providers.set(provider.peer, provider);
  }

  /** Drops what connected-peer answers said about `peer` (it disconnected). */
  peerGone(peer: string): void {
    for (const k of this.#known.values()) {
      const p = k.providers.get(peer);
      if (p?.via === "connected") k.providers.delete(peer);
      k.asked.delete(peer);
    }
  }

  /** Forgets everything older than the TTLs (bounded memory). */
  prune(): void {
    const now = this.#now();
    for (const [peer, until] of this.#unresponsive) {
      if (until <= now) this.#unresponsive.delete(peer);
    }
    const pos = this.#o.positiveTtlMs ?? 300_000;
    for (const [hex, k] of this.#known) {
      const fresh = [...k.asked.values()].some((t) => now - t < pos) || now - k.dhtAt < pos;
      if (!fresh && !this.#dhtRunning.has(hex)) this.#known.delete(hex);
    }
  }

  /**
   * Providers of each target: connected peers are asked (one `HAVE` per peer
   * for the whole batch) unless their answer is fresh; with `dht`, targets
   * with fewer than `minProviders` are then looked up in the DHT. Resolves
   * with every target's providers, best first.
   */
  async query(
    targets: AvailabilityTarget[],
    options: { dht: boolean; signal?: AbortSignal },
  ): Promise<Map<string, Provider[]>> {
    const hexes = targets.map((t) => hexEncode(t.narHash));
    await this.#askConnected(targets, hexes, options.signal);
    if (options.dht) {
      const missing = targets.filter((_, i) =>
        this.#ranked(this.#entry(hexes[i]!)).length < this.#o.minProviders
      );
      await this.#askDht(missing, options.signal);
    }
    return new Map(hexes.map((hex) => [hex, this.known(hex)]));
  }

  #entry(hex: string): Known {
    let k = this.#known.get(hex);
    if (!k) {
      k = { providers: new Map(), asked: new Map(), dhtAt: 0, dhtFound: 0 };
      this.#known.set(hex, k);
    }
    return k;
  }

  #ranked(k: Known): Provider[] {
    const book = this.#o.peerBook;
    return [...k.providers.values()]
      .filter((p) => !book.isBanned(p.peer))
      .sort((a, b) => rank(b) - rank(a) || book.score(b.peer) - book.score(a.peer))
      .slice(0, this.#o.maxProviders ?? 64);
  }

  /** Connected peers that speak the block protocol (or have not said yet). */
  #connectedPeers(): PeerId[] {
    const node = this.#o.node();
    const seen = new Set<string>();
    const out: PeerId[] = [];
    for (const conn of node.getConnections()) {
      const id = conn.remotePeer;
      const peer = id.toString();
      if (seen.has(peer) || this.#o.peerBook.isBanned(peer)) continue;
      seen.add(peer);
      out.push(id);
    }
    // A node with many connections asks its best ones (by score), not all of them.
    const book = this.#o.peerBook;
    return out.sort((a, b) => book.score(b.toString()) - book.score(a.toString()))
      .slice(0, this.#o.maxAsked ?? 32);
  }

  async #askConnected(
    targets: AvailabilityTarget[],
    hexes: string[],
    signal?: AbortSignal,
  ): Promise<void> {
    const now = this.#now();
    const negTtl = this.#o.negativeTtlMs ?? 30_000;
    const posTtl = this.#o.positiveTtlMs ?? 300_000;
    const node = this.#o.node();
    await Promise.all(
      this.#connectedPeers().map(async (peerId) => {
        const peer = peerId.toString();
        if ((this.#unresponsive.get(peer) ?? 0) > now) return;
        const protocols: string[] = await node.peerStore.get(peerId).then(
          (p) => p.protocols,
          () => [] as string[],
        );
        if (protocols.length > 0 && !protocols.includes(BLOCKS_PROTOCOL)) return;
        const ask: number[] = [];
        hexes.forEach((hex, i) => {
          const k = this.#entry(hex);
          const at = k.asked.get(peer);
          const has = k.providers.get(peer)?.via === "connected";
          if (at === undefined || now - at > (has ? posTtl : negTtl)) ask.push(i);
        });
        if (ask.length === 0) return;
        let link;
        try {
          link = await this.#o.links.get(peerId, signal);
        } catch {
          // Connected but no stream opens (refused, or the open timed out): every
          // batch would pay for it again, so skip it for a while like a silent one.
          // The DHT may still find others.
          if (!signal?.aborted) this.#unresponsive.set(peer, this.#now() + 60_000);
          return;
        }
        for (let at = 0; at < ask.length; at += MAX_HAVE_HASHES) {
          const batch = ask.slice(at, at + MAX_HAVE_HASHES);
          let states: HaveState[];
          try {
            states = await link.have(
              batch.map((i) => targets[i]!.narHash),
              this.#o.haveTimeoutMs ?? 2000,
            );
          } catch {
            // A peer that does not answer costs every batch its timeout: skip it for a while.
            this.#unresponsive.set(peer, this.#now() + 60_000);
            return;
          }
          const answered = this.#now();
          batch.forEach((i, j) => {
            const k = this.#entry(hexes[i]!);
            k.asked.set(peer, answered);
            const state = states[j]!;
            if (state === "none") {
              if (k.providers.get(peer)?.via === "connected") k.providers.delete(peer);
            } else k.providers.set(peer, { peerId, peer, state, via: "connected" });
          });
        }
      }),
    );
  }

  async #askDht(targets: AvailabilityTarget[], signal?: AbortSignal): Promise<void> {
    const node = this.#o.node();
    const table = (node.services.dht as unknown as { routingTable?: { size?: number } })
      .routingTable;
    if ((table?.size ?? 0) === 0) return; // nobody to ask
    const now = this.#now();
    const negTtl = this.#o.negativeTtlMs ?? 30_000;
    const queue = targets.filter((t) => {
      const k = this.#entry(hexEncode(t.narHash));
      return k.dhtAt === 0 || now - k.dhtAt > negTtl;
    });
    const limit = this.#o.dhtConcurrency ?? 16;
    const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        if (signal?.aborted) return;
        await this.#lookup(t, signal);
      }
    });
    await Promise.all(workers);
  }

  #lookup(target: AvailabilityTarget, signal?: AbortSignal): Promise<void> {
    const hex = hexEncode(target.narHash);
    const running = this.#dhtRunning.get(hex);
    if (running) return running;
    const book = this.#o.peerBook;
    const t0 = performance.now();
    const work = findProviders(this.#o.node(), target.narHash, {
      budgetMs: discoveryBudgetMs(target.narSize, this.#o.discoveryTimeout),
      min: this.#o.minProviders,
      max: this.#o.maxProviders ?? 8,
      exclude: (p) => book.isBanned(p.toString()),
      signal,
    }).then(async (found) => {
      const k = this.#entry(hex);
      k.dhtAt = this.#now();
      k.dhtFound = found.length;
      const node = this.#o.node();
      for (const info of found) {
        const peer = info.id.toString();
        if (info.multiaddrs.length > 0) {
          await node.peerStore.merge(info.id, { multiaddrs: info.multiaddrs }).catch(() => {});
        }
        if (!k.providers.has(peer)) {
          k.providers.set(peer, { peerId: info.id, peer, state: "complete", via: "dht" });
        }
      }
      this.#o.onDhtLookup?.(hex, found.length, Math.round(performance.now() - t0));
    }, () => {}).finally(() => this.#dhtRunning.delete(hex));
    this.#dhtRunning.set(hex, work);
    return work;
  }
}

function rank(p: Provider): number {
  return (p.state === "complete" ? 2 : 0) + (p.via === "connected" ? 1 : 0);
}
