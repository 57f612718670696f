/**
 * The planner's P2P sources for a NAR: providers found in the DHT within a
 * size-aware budget; their manifests fetched and checked against the signed
 * NarHash/NarSize; providers grouped by identical manifest, each group one
 * candidate source (largest group, then best peer score, first). Opening a
 * source starts — or joins — the swarm download of that group and returns
 * its verified-prefix stream. `rejected()` (the whole NAR failed the NarHash)
 * penalises every peer of the group that vouched for the lying manifest.
 *
 * @example
 * ```ts
 * const planner = new FetchPlanner({ http, p2p: new P2pSources(service) });
 * ```
 * @module
 */
import type { PeerInfo } from "@libp2p/interface";
import { hexEncode } from "../encoding/hex.ts";
import type { FetchTarget, SourceFactory } from "../fetch/planner.ts";
import type { NarSource } from "../fetch/source.ts";
import { narCid } from "./content_key.ts";
import { discoveryBudgetMs, findProviders } from "./discovery.ts";
import type { ChannelHandlers, PeerChannel } from "./peer_channel.ts";
import type { P2pService } from "./service.ts";
import { SwarmDownload } from "./swarm_download.ts";
import { groupManifests, type Manifest, manifestKey, validateManifest } from "./manifest.ts";

/** A provider that answered with a valid manifest. */
interface Offer {
  peer: string;
  manifest: Manifest;
  channel: PeerChannel;
}

/** Forwards channel callbacks to whichever download ends up owning the channel. */
class HandlerHolder implements ChannelHandlers {
  target: ChannelHandlers | undefined;
  block: ChannelHandlers["block"] = (ch, m) => this.target?.block(ch, m);
  blockError: ChannelHandlers["blockError"] = (ch, i, c) => this.target?.blockError(ch, i, c);
  closed: ChannelHandlers["closed"] = (ch, e, f) => this.target?.closed(ch, e, f);
}

/** P2P source factory. */
export class P2pSources implements SourceFactory {
  #service: P2pService;

  /** Creates the factory over a running service. */
  constructor(service: P2pService) {
    this.#service = service;
  }

  /** Candidate P2P sources for `target`. */
  async *sources(target: FetchTarget, options: { signal: AbortSignal }): AsyncGenerator<NarSource> {
    const svc = this.#service;
    if (!svc.running) return;
    const hex = hexEncode(target.narHashDigest);
    const active = svc.downloads.get(hex);
    if (active) {
      yield this.#source(
        target,
        active.key,
        active.peers,
        () => Promise.resolve(active.download),
        active.peers.length < 2,
      );
      return;
    }
    const offers = await this.#offers(target, new Set(), options.signal);
    const groups = groupManifests(offers.map((o) => ({ peer: o.peer, manifest: o.manifest })));
    const byPeer = new Map(offers.map((o) => [o.peer, o]));
    const best = (g: (typeof groups)[number]) =>
      Math.max(...g.members.map((m) => svc.peerBook.score(m.peer)));
    const ranked = groups.sort((a, b) => b.members.length - a.members.length || best(b) - best(a));
    try {
      for (const group of ranked) {
        const members = group.members.map((m) => byPeer.get(m.peer)!);
        const peers = members.map((m) => m.peer);
        let download: Promise<SwarmDownload> | undefined;
        // Vouched for by one peer only, or disputed: verified in full before a
        // consumer that cannot rewind (the gateway) sees any of it.
        const corroborated = members.length >= 2 && ranked.length === 1;
        yield this.#source(
          target,
          group.key,
          peers,
          () => download ??= this.#startDownload(target, group.manifest, members),
          !corroborated,
        );
      }
    } finally {
      for (const o of offers) {
        if (!svc.downloads.has(hex) || !svc.downloads.get(hex)!.peers.includes(o.peer)) {
          o.channel.close();
        }
      }
    }
  }

  /** Providers with valid manifests (at most `max_peers_per_download`, excluding `exclude`). */
  async #offers(
    target: FetchTarget,
    exclude: Set<string>,
    signal?: AbortSignal,
    budgetMs?: number,
  ): Promise<Offer[]> {
    const svc = this.#service;
    const c = svc.config;
    const t0 = performance.now();
    const providers: PeerInfo[] = await findProviders(svc.node, target.narHashDigest, {
      budgetMs: budgetMs ?? discoveryBudgetMs(target.narSize, c.discovery_timeout),
      min: c.min_providers,
      max: c.max_peers_per_download + exclude.size,
      exclude: (p) => exclude.has(p.toString()) || svc.peerBook.isBanned(p.toString()),
      signal,
    });
    svc.emit("providers:found", {
      narHash: hexEncode(target.narHashDigest),
      count: providers.length,
      ms: Math.round(performance.now() - t0),
    });
    if (providers.length < c.min_providers && exclude.size === 0) return [];
    const settled = await Promise.allSettled(
      providers.slice(0, c.max_peers_per_download).map(async (p) => {
        if (p.multiaddrs.length > 0) {
          await svc.node.peerStore.merge(p.id, { multiaddrs: p.multiaddrs }).catch(() => {});
        }
        const holder = new HandlerHolder();
        const channel = await svc.openChannel(p.id, holder, signal);
        try {
          const m = await channel.manifest(
            target.narHashDigest,
            Math.min(10_000, c.block_request_timeout * 1000),
          );
          if (m === "not-found") throw new Error("not-found");
          const reason = validateManifest(m, {
            narHash: target.narHashDigest,
            narSize: target.narSize,
          });
          if (reason) {
            const { banned } = svc.peerBook.fault(channel.peer, `bad manifest: ${reason}`);
            svc.emit("peer:penalised", {
              peer: channel.peer,
              reason: `bad manifest: ${reason}`,
              banned,
            });
            svc.emit("manifest:rejected", {
              narHash: hexEncode(target.narHashDigest),
              peer: channel.peer,
              reason,
            });
            throw new Error(reason);
          }
          (channel as PeerChannel & { holder?: HandlerHolder }).holder = holder;
          return { peer: channel.peer, manifest: m, channel };
        } catch (e) {
          channel.close();
          throw e;
        }
      }),
    );
    return settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  }

  async #startDownload(
    target: FetchTarget,
    manifest: Manifest,
    members: Offer[],
  ): Promise<SwarmDownload> {
    const svc = this.#service;
    const hex = hexEncode(target.narHashDigest);
    const entry = await svc.cache.open(
      {
        narHash: manifest.narHash,
        narSize: manifest.narSize,
        blockSize: manifest.blockSize,
        hashes: manifest.hashes,
      },
      target.storePath,
    );
    const key = manifestKey(manifest);
    const download: SwarmDownload = new SwarmDownload({
      entry,
      manifest,
      peerBook: svc.peerBook,
      limiter: svc.downloadLimiter,
      requestTimeoutMs: svc.config.block_request_timeout * 1000,
      stallTimeoutMs: Math.max(5000, svc.config.block_request_timeout * 1000),
      maxPeers: svc.config.max_peers_per_download,
      emit: (type, payload) => svc.emit(type, payload as never),
      channels: (handlers) => {
        for (const m of members) {
          (m.channel as PeerChannel & { holder?: HandlerHolder }).holder!.target = handlers;
          download.setHave(m.peer, m.manifest.have);
        }
        return Promise.resolve(members.map((m) => m.channel));
      },
      discover: async (exclude) => {
        const more = await this.#offers(target, exclude, undefined, 1000);
        const same = more.filter((o) => manifestKey(o.manifest) === key);
        for (const o of more) if (!same.includes(o)) o.channel.close();
        for (const o of same) {
          (o.channel as PeerChannel & { holder?: HandlerHolder }).holder!.target =
            download.handlers;
          download.setHave(o.peer, o.manifest.have);
        }
        return same.map((o) => o.channel);
      },
    });
    svc.downloads.set(hex, { key, peers: members.map((m) => m.peer), download });
    download.done.catch(() => {}).finally(() => {
      const cur = svc.downloads.get(hex);
      if (cur?.download === download && download.done !== undefined) {
        // Keep the record until the planner calls verified()/rejected(); a failed download goes now.
      }
    });
    download.done.catch(() => {
      if (svc.downloads.get(hex)?.download === download) svc.downloads.delete(hex);
    });
    if (svc.config.auto_seed !== "off") svc.provideInBackground(target.narHashDigest);
    await download.start();
    return download;
  }

  #source(
    target: FetchTarget,
    key: string,
    peers: string[],
    download: () => Promise<SwarmDownload>,
    verifyFirst = false,
  ): NarSource {
    const svc = this.#service;
    const hex = hexEncode(target.narHashDigest);
    let current: SwarmDownload | undefined;
    return {
      kind: "p2p",
      verifyFirst,
      url: `p2p://${narCid(target.narHashDigest).toString()}`,
      size: null,
      async open(offset) {
        current = await download();
        return {
          stream: current.prefix(offset),
          transferred: () => current?.wireBytes ?? 0,
          detail: () => ({ peers: current?.contributions() ?? {}, manifest: key.slice(0, 16) }),
        };
      },
      verified() {
        if (current) svc.downloadVerified(hex, current.entry, target.storePath);
      },
      rejected() {
        svc.downloadRejected(hex, peers, current?.entry);
      },
    };
  }
}
