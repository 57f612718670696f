/**
 * The swarm side of the P2P sources, for NARs too large to fetch whole: asks
 * the providers for their manifests (checked against the signed NarHash and
 * NarSize; a bad one penalises its peer), groups them by layout, ranks the
 * groups by first-hand sources, and offers one source per group. Opening a
 * source starts (or joins) the {@linkcode SwarmDownload} of that group,
 * registered in the {@linkcode DownloadRegistry} and fed by later providers
 * of the same manifest. A download that is not corroborated by first-hand
 * sources on two networks is marked to be verified in full first.
 *
 * @example
 * ```ts
 * const swarm = new SwarmSources(init, (target, signal) => providersOf(target, signal));
 * for await (const source of swarm.sources(target, hex, url, signal)) console.log(source.url);
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import type { FetchTarget, FileNar, NarSource } from "../../fetch/source.ts";
import type { PeerBook } from "../peer_book.ts";
import type { FairRateLimiter } from "../rate/mod.ts";
import type { BlockCache } from "../store/deno_block_cache.ts";
import { groupManifests, type Manifest, manifestKey, validateManifest } from "../wire/manifest.ts";
import type { Availability, Provider } from "./availability.ts";
import { type ChannelHandlers, LinkChannel } from "./channel.ts";
import type { PeerLinks } from "./links.ts";
import { independentOrigins } from "./origins.ts";
import type { DownloadRegistry, Member } from "./registry.ts";
import { type DownloadEvents, SwarmDownload } from "./swarm_download.ts";

/** Events of the swarm sources. */
export interface SwarmSourceEvents extends DownloadEvents {
  "manifest:rejected": { narHash: string; peer: string; reason: string };
}

/** What {@linkcode SwarmSources} needs. */
export interface SwarmSourcesInit {
  cache: BlockCache;
  availability: Availability;
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
  emit: <K extends keyof SwarmSourceEvents>(type: K, payload: SwarmSourceEvents[K]) => void;
}

/** Finds the providers of `target` (known ones, else asked of peers and the DHT). */
export type FindProviders = (target: FetchTarget, signal: AbortSignal) => Promise<Provider[]>;

/** A provider that answered with a valid manifest. */
interface Offer {
  peer: string;
  manifest: Manifest;
  channel: LinkChannel;
}

/** Forwards channel callbacks to whichever download ends up owning the channel. */
class Holder implements ChannelHandlers {
  target: ChannelHandlers | undefined;
  block: ChannelHandlers["block"] = (ch, m, b) => this.target?.block(ch, m, b);
  blockError: ChannelHandlers["blockError"] = (ch, i, c) => this.target?.blockError(ch, i, c);
  closed: ChannelHandlers["closed"] = (ch, e, f) => this.target?.closed(ch, e, f);
}

/**
 * Swarm-download sources of large NARs.
 *
 * @example
 * ```ts
 * const swarm = new SwarmSources(init, findProviders);
 * const first = await swarm.sources(target, hex, url, signal).next();
 * ```
 */
export class SwarmSources {
  #o: SwarmSourcesInit;
  #providers: FindProviders;

  /** Creates the sources; `providers` finds who has an item. */
  constructor(init: SwarmSourcesInit, providers: FindProviders) {
    this.#o = init;
    this.#providers = providers;
  }

  /** First-hand sources among `members` on distinct networks (docs/protocol.md §3.4). */
  #independent(members: Member[]): number {
    return independentOrigins(
      members.filter((m) => m.verified).map((m) => this.#o.networkOf?.(m.peer)),
    );
  }

  /**
   * The swarm downloads `target` can come from, as sources (its NarHash as
   * `hex`, its `p2p://` `url`): the one running, else one per manifest group
   * of the providers, best first; each download starts when its source is
   * first opened.
   */
  async *sources(
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
      emit: (type, payload) => o.emit(type, payload as SwarmSourceEvents[typeof type]),
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
          path: d.entry.path,
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
