/**
 * The planner's P2P sources for a NAR, cheapest first:
 *
 * 1. a verified copy in the block cache (prefetched, or fetched earlier);
 * 2. for a small NAR (≤ 4 MiB), the whole NAR from one provider, checked
 *    against the NarHash before the first byte is handed on;
 * 3. for a large NAR, a swarm download of the providers' manifest group
 *    (largest group of first-hand sources first), block by block from
 *    several peers over their shared links.
 *
 * Providers come from the availability index: usually already known from
 * the `have`/`info` queries that preceded the substitution, otherwise asked
 * of connected peers, then the DHT. With no provider, nothing is yielded at
 * once (no waiting before HTTP).
 *
 * @example
 * ```ts
 * const planner = new FetchPlanner({ http, p2p: new P2pSources(init) });
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import type { FetchTarget, FileNar, NarSource, SourceFactory } from "../../fetch/source.ts";
import { narCid } from "../content_key.ts";
import type { BlockCache } from "../store/deno_block_cache.ts";
import { groupManifests, type Manifest, manifestKey, validateManifest } from "../wire/manifest.ts";
import type { PeerBook } from "../peer_book.ts";
import type { FairRateLimiter } from "../rate/mod.ts";
import { MAX_WHOLE_NAR } from "../wire/mod.ts";
import { cacheSource, entryFile, entryStream } from "./_entry_source.ts";
import type { Availability, Provider } from "./availability.ts";
import { type ChannelHandlers, LinkChannel } from "./channel.ts";
import type { PeerLinks } from "./links.ts";
import { independentOrigins } from "./origins.ts";
import type { DownloadRegistry, Member } from "./registry.ts";
import { type DownloadEvents, SwarmDownload } from "./swarm_download.ts";
import type { WholeFetcher } from "./whole.ts";

/** Events of the sources. */
export interface SourceEvents extends DownloadEvents {
  "providers:found": { narHash: string; count: number; ms: number };
  "manifest:rejected": { narHash: string; peer: string; reason: string };
}

/** Options of {@linkcode P2pSources}. */
export interface P2pSourcesInit {
  running: () => boolean;
  cache: BlockCache;
  availability: Availability;
  whole: WholeFetcher;
  links: PeerLinks;
  registry: DownloadRegistry;
  peerBook: PeerBook;
  limiter: FairRateLimiter;
  minProviders: number;
  maxPeersPerDownload: number;
  /** Seconds before an unanswered block request goes elsewhere. */
  blockRequestTimeout: number;
  /** Whether downloads are announced to the DHT as they start (auto-seeding on). */
  announce: () => boolean;
  provide: (narHash: Uint8Array) => void;
  /** The network a connected peer is on (`origins.ts`), for corroboration; undefined: unknown. */
  networkOf?: (peer: string) => string | undefined;
  emit: <K extends keyof SourceEvents>(type: K, payload: SourceEvents[K]) => void;
}

/** A provider that answered with a valid manifest. */
interface Offer {
  peer: string;
  manifest: Manifest;
  channel: LinkChannel;
}

/** Forwards channel callbacks to whichever download ends up owning the channel. */
class Holder implements ChannelHandlers {
  target: ChannelHandlers | undefined;
  block: ChannelHandlers["block"] = (ch, m) => this.target?.block(ch, m);
  blockError: ChannelHandlers["blockError"] = (ch, i, c) => this.target?.blockError(ch, i, c);
  closed: ChannelHandlers["closed"] = (ch, e, f) => this.target?.closed(ch, e, f);
}

/** P2P source factory. */
export class P2pSources implements SourceFactory {
  #o: P2pSourcesInit;

  /** Creates the factory. */
  constructor(init: P2pSourcesInit) {
    this.#o = init;
  }

  /** Candidate P2P sources for `target`. */
  async *sources(target: FetchTarget, options: { signal: AbortSignal }): AsyncGenerator<NarSource> {
    const o = this.#o;
    if (!o.running()) return;
    const hex = hexEncode(target.narHashDigest);
    const url = `p2p://${narCid(target.narHashDigest).toString()}`;
    const cached = o.cache.get(hex);
    if (cached?.verified && cached.complete && cached.layout.narSize === target.narSize) {
      yield cacheSource(cached, url);
      return;
    }
    if (target.narSize <= MAX_WHOLE_NAR) {
      const running = o.whole.running(hex);
      const providers = running ? [] : await this.#providers(target, options.signal);
      if (!running && providers.filter((p) => p.state === "complete").length < o.minProviders) {
        return;
      }
      // Joins the running fetch if there is one (this caller's signal stops only its wait).
      const fetched = (signal: AbortSignal) =>
        o.whole.fetch(
          { narHash: target.narHashDigest, narSize: target.narSize, storePath: target.storePath },
          providers,
          signal,
        );
      yield {
        kind: "p2p",
        url,
        size: null,
        async open(offset, { signal }) {
          return entryStream(await fetched(signal), offset);
        },
        async openFile({ signal }) {
          return entryFile(await fetched(signal), o.whole.wireBytesOf(hex));
        },
      };
      return;
    }
    yield* this.#swarm(target, hex, url, options.signal);
  }

  /**
   * Fetches `target` from peers ahead of its substitution (prefetch): the same
   * path as a fetch — cache, whole NAR, or swarm download — run to the end
   * into the block cache. Resolves when it is there or could not be had.
   */
  async prepare(target: FetchTarget, signal: AbortSignal): Promise<boolean> {
    for await (const source of this.sources(target, { signal })) {
      if (!source.openFile) return false;
      let file;
      try {
        file = await source.openFile({ signal });
      } catch {
        continue;
      }
      try {
        await file.grown(target.narSize - 1, signal);
        return true;
      } catch {
        continue;
      } finally {
        file.release();
      }
    }
    return false;
  }

  /** First-hand sources among `members` on distinct networks (docs/protocol.md §3.4). */
  #independent(members: Member[]): number {
    return independentOrigins(
      members.filter((m) => m.verified).map((m) => this.#o.networkOf?.(m.peer)),
    );
  }

  async #providers(target: FetchTarget, signal: AbortSignal): Promise<Provider[]> {
    const o = this.#o;
    const known = o.availability.known(target.narHashDigest);
    if (known.length >= o.minProviders) return known;
    const t0 = performance.now();
    const found = await o.availability.query(
      [{ narHash: target.narHashDigest, narSize: target.narSize }],
      { dht: true, signal },
    );
    const providers = found.get(hexEncode(target.narHashDigest)) ?? [];
    o.emit("providers:found", {
      narHash: hexEncode(target.narHashDigest),
      count: providers.length,
      ms: Math.round(performance.now() - t0),
    });
    return providers;
  }

  async *#swarm(
    target: FetchTarget,
    hex: string,
    url: string,
    signal: AbortSignal,
  ): AsyncGenerator<NarSource> {
    const o = this.#o;
    const active = o.registry.get(hex);
    if (active) {
      const first = this.#independent(active.members);
      yield this.#source(url, active.key, () => Promise.resolve(active.download), first < 2);
      return;
    }
    const providers = await this.#providers(target, signal);
    if (providers.length < o.minProviders) return;
    const offers = await this.#offers(target, providers, signal);
    const groups = groupManifests(offers.map((x) => ({ peer: x.peer, manifest: x.manifest })));
    const byPeer = new Map(offers.map((x) => [x.peer, x]));
    const origins = (g: (typeof groups)[number]) =>
      g.members.filter((m) => m.manifest.verified).length;
    const best = (g: (typeof groups)[number]) =>
      Math.max(...g.members.map((m) => o.peerBook.score(m.peer)));
    // First-hand sources count, relays do not (docs/protocol.md §3.4).
    const ranked = groups.sort((a, b) =>
      origins(b) - origins(a) || b.members.length - a.members.length || best(b) - best(a)
    );
    try {
      for (const group of ranked) {
        const members = group.members.map((m) => byPeer.get(m.peer)!);
        const vouching: Member[] = members.map((m) => ({
          peer: m.peer,
          verified: m.manifest.verified === true,
        }));
        let download: Promise<SwarmDownload> | undefined;
        // Corroborated: first-hand sources on two different networks (PeerIds cost nothing)
        // and no dissent. Anything less is checked in full before a consumer that cannot
        // rewind (the gateway) sees a byte.
        const corroborated = this.#independent(vouching) >= 2 && ranked.length === 1;
        yield this.#source(
          url,
          group.key,
          () => download ??= this.#startDownload(target, group.manifest, members, vouching),
          !corroborated,
        );
      }
    } finally {
      for (const x of offers) {
        const d = o.registry.get(hex);
        if (!d || !d.members.some((m) => m.peer === x.peer)) x.channel.close();
      }
    }
  }

  /** Providers' manifests, checked against the signed NarHash/NarSize. */
  async #offers(
    target: FetchTarget,
    providers: Provider[],
    signal?: AbortSignal,
    exclude: Set<string> = new Set(),
  ): Promise<Offer[]> {
    const o = this.#o;
    const chosen = providers.filter((p) => !exclude.has(p.peer)).slice(
      0,
      o.maxPeersPerDownload,
    );
    const settled = await Promise.allSettled(chosen.map(async (p) => {
      const link = await o.links.get(p.peerId, signal);
      const m = await link.manifest(
        target.narHashDigest,
        Math.min(10_000, o.blockRequestTimeout * 1000),
      );
      if (m === "not-found") {
        o.availability.forget(target.narHashDigest, p.peer);
        throw new Error("not-found");
      }
      const reason = validateManifest(m, {
        narHash: target.narHashDigest,
        narSize: target.narSize,
      });
      if (reason) {
        const { banned } = o.peerBook.fault(p.peer, `bad manifest: ${reason}`);
        o.emit("peer:penalised", { peer: p.peer, reason: `bad manifest: ${reason}`, banned });
        o.emit("manifest:rejected", {
          narHash: hexEncode(target.narHashDigest),
          peer: p.peer,
          reason,
        });
        throw new Error(reason);
      }
      return { peer: p.peer, manifest: m, channel: new LinkChannel(link, new Holder()) };
    }));
    return settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  }

  /** Downloads being set up, by NarHash: a fetch and a prefetch of one item share one. */
  #starting = new Map<string, Promise<SwarmDownload>>();

  #startDownload(
    target: FetchTarget,
    manifest: Manifest,
    members: Offer[],
    vouching: Member[],
  ): Promise<SwarmDownload> {
    const hex = hexEncode(target.narHashDigest);
    const active = this.#o.registry.get(hex);
    if (active && manifestKey(active.download.manifest) === manifestKey(manifest)) {
      for (const x of members) x.channel.close();
      return Promise.resolve(active.download);
    }
    let starting = this.#starting.get(hex);
    if (!starting) {
      starting = this.#newDownload(target, manifest, members, vouching)
        .finally(() => this.#starting.delete(hex));
      this.#starting.set(hex, starting);
    } else {
      for (const x of members) x.channel.close();
    }
    return starting;
  }

  async #newDownload(
    target: FetchTarget,
    manifest: Manifest,
    members: Offer[],
    vouching: Member[],
  ): Promise<SwarmDownload> {
    const o = this.#o;
    const hex = hexEncode(target.narHashDigest);
    const entry = await o.cache.open(
      {
        narHash: manifest.narHash,
        narSize: manifest.narSize,
        blockSize: manifest.blockSize,
        hashes: manifest.hashes,
      },
      target.storePath,
    );
    const key = manifestKey(manifest);
    const attach = (x: Offer, download: SwarmDownload) => {
      x.channel.setHandlers(download.handlers);
      download.setHave(x.peer, x.manifest.have);
    };
    const download: SwarmDownload = new SwarmDownload({
      entry,
      manifest,
      peerBook: o.peerBook,
      limiter: o.limiter,
      requestTimeoutMs: o.blockRequestTimeout * 1000,
      stallTimeoutMs: Math.max(5000, o.blockRequestTimeout * 1000),
      maxPeers: o.maxPeersPerDownload,
      emit: (type, payload) => o.emit(type, payload as SourceEvents[typeof type]),
      channels: (handlers) => {
        for (const x of members) {
          x.channel.setHandlers(handlers);
          download.setHave(x.peer, x.manifest.have);
        }
        return Promise.resolve(members.map((x) => x.channel));
      },
      discover: async (exclude) => {
        const found = await o.availability.query(
          [{ narHash: target.narHashDigest, narSize: target.narSize }],
          { dht: true },
        );
        const more = await this.#offers(target, found.get(hex) ?? [], undefined, exclude);
        const same = more.filter((x) => manifestKey(x.manifest) === key);
        for (const x of more) if (!same.includes(x)) x.channel.close();
        for (const x of same) {
          attach(x, download);
          vouching.push({ peer: x.peer, verified: x.manifest.verified === true });
        }
        return same.map((x) => x.channel);
      },
    });
    o.registry.set(hex, {
      key,
      members: vouching,
      download,
      ...(target.storePath ? { storePath: target.storePath } : {}),
    });
    if (o.announce()) o.provide(target.narHashDigest);
    await download.start();
    return download;
  }

  #source(
    url: string,
    key: string,
    download: () => Promise<SwarmDownload>,
    verifyFirst = false,
  ): NarSource {
    const o = this.#o;
    let current: SwarmDownload | undefined;
    return {
      kind: "p2p",
      verifyFirst,
      url,
      size: null,
      async open(offset) {
        current = await download();
        return {
          stream: current.prefix(offset),
          transferred: () => current?.wireBytes ?? 0,
          detail: () => ({ peers: current?.contributions() ?? {}, manifest: key.slice(0, 16) }),
        };
      },
      async openFile(): Promise<FileNar> {
        const d = current = await download();
        const unpin = d.entry.pin();
        return {
          path: `${d.entry.dir}/data`,
          available: () => d.prefixLength(),
          grown: (bytes, signal) => d.grown(bytes, signal),
          transferred: () => d.wireBytes,
          release: unpin,
        };
      },
      verified() {
        if (current) o.registry.verified(current);
      },
      rejected() {
        if (current) o.registry.rejected(current);
      },
    };
  }
}
