/**
 * The P2P layer of the daemon, with a start/stop lifecycle: the libp2p node
 * (persistent identity, bootstrap and remembered peers, mDNS), the block
 * server, the block cache, the seed registry, provider records, swarm
 * downloads, and the admin commands `peers`, `status`, `seeds`, `seed`,
 * `unseed`.
 *
 * @example
 * ```ts
 * const p2p = new P2pService(config, { emit: (type, payload) => bus.emit(type, payload) });
 * const daemon = new Daemon(config, { p2p: new P2pSources(p2p), providers: p2p, admin: p2p.admin, parts: [p2p] });
 * ```
 * @module
 */
import type { PeerId } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import type { Config } from "../config/schema.ts";
import type { AdminCommand } from "../control/messages.ts";
import { hexEncode } from "../encoding/hex.ts";
import { formatNarHash, parseNarHash } from "../hash/nar_hash.ts";
import { storeItemPath } from "../store/store_item.ts";
import { BlockServer } from "./block_server.ts";
import { narCid } from "./content_key.ts";
import { BlockCache, type CacheEntry } from "./deno_block_cache.ts";
import { loadOrCreateIdentity } from "./deno_identity.ts";
import { readJsonFile, writeJsonFile } from "./deno_json_file.ts";
import { SeedRegistry } from "./deno_seeds.ts";
import { discoveryBudgetMs, findProviders } from "./discovery.ts";
import type { P2pEvents } from "./events.ts";
import { createNode, dhtServerMode, type P2pNode, providerStats } from "./node.ts";
import { type ChannelHandlers, PeerChannel } from "./peer_channel.ts";
import { PeerBook } from "./peer_book.ts";
import { Slots } from "./dht/slots.ts";
import { FairRateLimiter } from "./rate/mod.ts";
import type { SwarmDownload } from "./swarm_download.ts";
import { CompressedBlockCache } from "./wire/mod.ts";

/** Emits P2P events. */
export type P2pEmitter = <K extends keyof P2pEvents>(type: K, payload: P2pEvents[K]) => void;

/** A download in progress, by NarHash hex. */
export interface ActiveDownload {
  key: string;
  peers: string[];
  download: SwarmDownload;
}

/** The P2P service. */
export class P2pService {
  readonly config: Config;
  readonly peerBook: PeerBook;
  readonly cache: BlockCache;
  readonly seeds: SeedRegistry;
  readonly uploadLimiter: FairRateLimiter;
  readonly downloadLimiter: FairRateLimiter;
  readonly downloads = new Map<string, ActiveDownload>();
  readonly emit: P2pEmitter;
  #node: P2pNode | undefined;
  #server: BlockServer | undefined;
  #timers: ReturnType<typeof setInterval>[] = [];
  #running = false;
  #stopping = new AbortController();
  #providing = new Set<string>();
  /** Announcements run 8 at a time (peers rate-limit ADD_PROVIDER, docs/security.md). */
  #provideSlots = new Slots(8);

  /** Creates the service (nothing runs until {@linkcode start}). */
  constructor(config: Config, options: { emit?: P2pEmitter } = {}) {
    this.config = config;
    this.emit = options.emit ?? (() => {});
    this.peerBook = new PeerBook({
      banThreshold: config.ban_threshold,
      banDurationMs: config.ban_duration * 1000,
      maxPeers: Math.max(config.known_peers_max, 16),
    });
    this.cache = new BlockCache(`${config.cache_dir}/blocks`, { maxBytes: config.cache_size });
    this.seeds = new SeedRegistry({
      cacheDir: config.cache_dir,
      cache: this.cache,
      blockSize: config.block_size,
      storeDirs: [config.store_dir, config.nix_store_dir],
    });
    this.uploadLimiter = new FairRateLimiter({ bytesPerSecond: config.max_upload_rate });
    this.downloadLimiter = new FairRateLimiter({ bytesPerSecond: config.max_download_rate });
  }

  /** The libp2p node (after start). */
  get node(): P2pNode {
    if (!this.#node) throw new Error("the P2P node is not running");
    return this.#node;
  }

  /** True between start and stop. */
  get running(): boolean {
    return this.#running;
  }

  /** Starts the node and everything around it. */
  async start(): Promise<void> {
    const c = this.config;
    await Deno.mkdir(c.cache_dir, { recursive: true, mode: 0o755 });
    this.peerBook.restore(await readJsonFile(`${c.cache_dir}/peers.json`));
    await this.cache.load();
    await this.seeds.load();
    const key = await loadOrCreateIdentity(c.cache_dir);
    const node = await createNode(c, key, {
      isBanned: (p) => this.peerBook.isBanned(p.toString()),
      onAbuse: (peer, reason) =>
        this.emit("peer:penalised", { peer, reason, ...this.peerBook.fault(peer, reason) }),
    });
    this.#node = node;
    node.addEventListener("peer:identify", (ev) => {
      const d = ev.detail;
      this.peerBook.seen(d.peerId.toString(), d.listenAddrs.map(String), d.agentVersion);
      // Measured a little later: pinging during identify keeps kad-dht from
      // adding the peer to its routing table (observed with kad-dht 16.4.5).
      const timer = setTimeout(() => {
        if (!this.#running) return;
        node.services.ping.ping(d.peerId, { signal: AbortSignal.timeout(5000) })
          .then((ms) => this.peerBook.latency(d.peerId.toString(), ms), () => {});
      }, 3000);
      (timer as unknown as { unref?: () => void }).unref?.();
    });
    node.addEventListener("connection:open", (ev) => {
      this.emit("peer:connected", {
        peer: ev.detail.remotePeer.toString(),
        address: ev.detail.remoteAddr.toString(),
      });
    });
    node.addEventListener(
      "peer:disconnect",
      (ev) => this.emit("peer:disconnected", { peer: ev.detail.toString() }),
    );
    // libp2p no longer dials discovered peers by itself: connect to what mDNS finds.
    node.addEventListener("peer:discovery", (ev) => {
      const id = ev.detail.id;
      const peer = id.toString();
      if (!this.#running || this.peerBook.isBanned(peer) || id.equals(node.peerId)) return;
      if (
        node.getConnections(id).length > 0 ||
        node.getConnections().length >= this.config.max_connections
      ) return;
      this.emit("peer:discovered", { peer, addresses: ev.detail.multiaddrs.map(String) });
      node.dial(id, { signal: AbortSignal.timeout(10_000) }).catch(() => {});
    });
    this.#server = new BlockServer({
      node,
      seeds: this.seeds,
      limiter: this.uploadLimiter,
      peerBook: this.peerBook,
      compressed: new CompressedBlockCache({ maxBytes: 64 * 1024 * 1024 }),
      maxMessageSize: c.max_message_size,
      maxStreamsPerPeer: c.max_streams_per_peer,
      stallTimeoutMs: c.block_stream_stall_timeout * 1000,
      emit: (type, payload) => this.emit(type, payload as never),
    });
    await node.start();
    const table = (node.services.dht as unknown as { routingTable?: EventTarget }).routingTable;
    const onTable = () => this.emit("dht:size", { peers: routingTableSize(node) });
    table?.addEventListener("peer:add", onTable);
    table?.addEventListener("peer:remove", onTable);
    await this.#server.start();
    this.#running = true;
    this.emit("p2p:started", {
      peerId: node.peerId.toString(),
      addresses: node.getMultiaddrs().map(String),
      dhtMode: dhtServerMode(c) ? "server" : "client",
    });
    this.#connect();
    this.#timers.push(setInterval(() => this.#savePeers(), 30_000));
    this.#timers.push(setInterval(() => this.#connect(), 60_000));
    // Seeds from the configuration, then announce everything we seed (once; the DHT refreshes).
    void (async () => {
      for (const path of c.seed_paths) {
        if (this.seeds.byStorePath(path)) continue;
        await this.seedPath(path, "config").catch((e) =>
          this.emit("seed:removed", { narHash: `${path}: ${(e as Error).message}` })
        );
      }
      for (const h of this.seeds.seededHashes()) this.provideInBackground(h);
    })();
  }

  /** Stops everything (idempotent). */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stopping.abort(new Error("stopping"));
    for (const t of this.#timers) clearInterval(t);
    for (const d of this.downloads.values()) d.download.abort(new Error("daemon stopping"));
    await this.#server?.stop();
    await this.#savePeers();
    await this.cache.close();
    await this.#node?.stop();
  }

  /** Same as {@linkcode stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #savePeers(): Promise<void> {
    if (this.peerBook.dirty) {
      await writeJsonFile(`${this.config.cache_dir}/peers.json`, this.peerBook.snapshot()).catch(
        () => {},
      );
    }
  }

  /** Dials bootstrap peers and remembered peers when few connections are open. */
  #connect(): void {
    const node = this.#node;
    if (!node || !this.#running) return;
    if (node.getConnections().length >= Math.min(8, this.config.max_connections)) return;
    const targets = [...this.config.bootstrap_peers];
    const connected = new Set(node.getConnections().map((c) => c.remotePeer.toString()));
    for (const p of this.peerBook.list().slice(0, 20)) {
      if (this.peerBook.isBanned(p.id) || connected.has(p.id)) continue;
      for (const a of p.addresses.slice(0, 2)) {
        targets.push(a.includes("/p2p/") ? a : `${a}/p2p/${p.id}`);
      }
    }
    for (const t of targets) {
      let ma;
      try {
        ma = multiaddr(t);
      } catch {
        continue;
      }
      node.dial(ma, { signal: AbortSignal.timeout(10_000) }).catch(() => {});
    }
  }

  /** Opens a block-exchange channel to `peer`. */
  openChannel(peer: PeerId, handlers: ChannelHandlers, signal?: AbortSignal): Promise<PeerChannel> {
    return PeerChannel.open(this.node, peer, {
      maxMessageSize: this.config.max_message_size,
      timeoutMs: 10_000,
      handlers,
      signal,
    });
  }

  /** Publishes a provider record for `narHash` (not awaited; errors become events). */
  provideInBackground(narHash: Uint8Array): void {
    const hex = hexEncode(narHash);
    if (this.#providing.has(hex) || !this.#running) return;
    this.#providing.add(hex);
    const t0 = performance.now();
    (async () => {
      await this.#provideSlots.run(async () => {
        const signal = AbortSignal.any([AbortSignal.timeout(120_000), this.#stopping.signal]);
        for await (const _ of this.node.services.dht.provide(narCid(narHash), { signal })) {
          /* drain */
        }
      });
    })().then(
      () => this.emit("provide:done", { narHash: hex, ms: Math.round(performance.now() - t0) }),
      (e) =>
        this.emit("provide:done", {
          narHash: hex,
          ms: Math.round(performance.now() - t0),
          error: String((e as Error).message),
        }),
    ).finally(() => this.#providing.delete(hex));
  }

  async #unprovide(narHash: Uint8Array): Promise<void> {
    await this.#node?.services.dht.cancelReprovide(narCid(narHash)).catch(() => {});
  }

  /** Providers of `narHash` found within the discovery budget (for p2p-only `have`). */
  async countProviders(
    narHash: Uint8Array,
    options: { signal: AbortSignal; narSize: number },
  ): Promise<number> {
    if (!this.#running) return 0;
    const found = await findProviders(this.node, narHash, {
      budgetMs: discoveryBudgetMs(
        options.narSize || 64 * 1024 * 1024,
        this.config.discovery_timeout,
      ),
      min: this.config.min_providers,
      max: this.config.min_providers,
      exclude: (p) => this.peerBook.isBanned(p.toString()),
      signal: options.signal,
    });
    return found.length;
  }

  /** The planner verified a NAR downloaded from peers. */
  downloadVerified(hex: string, entry: CacheEntry, storePath: string): void {
    this.downloads.delete(hex);
    void (async () => {
      await entry.markVerified(storePath);
      if (this.config.auto_seed === "off") {
        await this.#unprovide(entry.layout.narHash);
        await this.cache.remove(hex).catch(() => {});
      } else {
        // Seeded from the block cache, by NarHash; once the helper reports the store item,
        // substituted() seeds it from the store and names the store path (no race for
        // anyone waiting for the store path's "seeding" line).
        this.emit("seed:added", {
          narHash: formatNarHash(entry.layout.narHash),
          storePath: undefined,
          origin: "auto",
        });
      }
    })();
  }

  /** The planner found that the NAR from these peers does not match its NarHash. */
  downloadRejected(hex: string, peers: string[], entry: CacheEntry | undefined): void {
    this.downloads.delete(hex);
    for (const peer of peers) {
      const { banned } = this.peerBook.fault(peer, "manifest did not hash to the NarHash");
      this.emit("peer:penalised", { peer, reason: "lying manifest", banned });
    }
    void entry?.reset();
  }

  /** A substitution finished: seed it per `auto_seed`, from the store item itself. */
  async substituted(info: { storePath: string; narHash: string; source: string }): Promise<void> {
    const mode = this.config.auto_seed;
    if (mode === "off" || (mode === "p2p" && info.source !== "p2p")) return;
    const digest = parseNarHash(info.narHash);
    const hex = hexEncode(digest);
    const entry = this.cache.get(hex);
    const known = entry?.verified
      ? {
        narSize: entry.layout.narSize,
        blockSize: entry.layout.blockSize,
        hashes: entry.layout.hashes,
      }
      : undefined;
    const seed = await this.seeds.seedStorePath(info.storePath, {
      origin: "auto",
      expectedNarHash: digest,
      ...(known ? { known } : {}),
    });
    // Served from the store item from now on: the cached copy is no longer needed.
    if (entry && !entry.pinned && known) await this.cache.remove(hex);
    this.emit("seed:added", {
      narHash: formatNarHash(seed.narHash),
      storePath: info.storePath,
      origin: "auto",
    });
    this.provideInBackground(digest);
  }

  /** Seeds a store path (explicit or from the configuration). */
  async seedPath(
    path: string,
    origin: "explicit" | "config",
  ): Promise<{ narHash: string; storePath: string; narSize: number }> {
    const clean = storeItemPath([this.config.store_dir, this.config.nix_store_dir], path).path;
    const seed = await this.seeds.seedStorePath(clean, { origin, signal: this.#stopping.signal });
    this.emit("seed:added", { narHash: formatNarHash(seed.narHash), storePath: clean, origin });
    this.provideInBackground(seed.narHash);
    return { narHash: formatNarHash(seed.narHash), storePath: clean, narSize: seed.narSize };
  }

  /** Admin commands handled by the P2P layer (undefined: not ours). */
  admin = (command: AdminCommand, args: string[]): Promise<unknown> | undefined => {
    switch (command) {
      case "peers":
        return Promise.resolve(this.peersReport());
      case "seeds":
        return Promise.resolve(this.seeds.list());
      case "seed":
        return (async () => {
          const out = [];
          for (const p of args) {
            try {
              out.push({ ok: true, ...(await this.seedPath(p, "explicit")) });
            } catch (e) {
              out.push({ ok: false, path: p, error: (e as Error).message });
            }
          }
          return out;
        })();
      case "unseed":
        return (async () => {
          const out = [];
          for (const t of args) {
            const hex = await this.seeds.unseed(t);
            if (hex) {
              await this.#unprovide(new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16))));
              this.emit("seed:removed", { narHash: hex });
            }
            out.push({ target: t, removed: hex !== undefined });
          }
          return out;
        })();
      case "status":
        return Promise.resolve(this.statusReport());
      default:
        return undefined;
    }
  };

  /** Peers: connected ones first, then remembered ones. */
  peersReport(): Record<string, unknown>[] {
    const node = this.#node;
    const connected = new Map<string, string[]>();
    for (const conn of node?.getConnections() ?? []) {
      const id = conn.remotePeer.toString();
      connected.set(id, [...(connected.get(id) ?? []), conn.remoteAddr.toString()]);
    }
    const ids = new Set([...connected.keys(), ...this.peerBook.list().map((p) => p.id)]);
    return [...ids].map((id) => {
      const r = this.peerBook.get(id);
      return {
        peerId: id,
        connected: connected.has(id),
        addresses: connected.get(id) ?? r?.addresses ?? [],
        agent: r?.agent ?? null,
        latencyMs: r?.latencyMs ?? null,
        bytesUp: r?.bytesUp ?? 0,
        bytesDown: r?.bytesDown ?? 0,
        blocksUp: r?.blocksUp ?? 0,
        blocksDown: r?.blocksDown ?? 0,
        faults: r?.faults ?? 0,
        banned: this.peerBook.isBanned(id),
        score: Math.round(this.peerBook.score(id) * 100) / 100,
      };
    }).sort((a, b) => Number(b.connected) - Number(a.connected));
  }

  /** The P2P part of `status`. */
  statusReport(): Record<string, unknown> {
    const node = this.#node;
    const addrs = node?.getMultiaddrs().map(String) ?? [];
    const shareable = addrs.filter((a) => !/\/ip4\/(127\.|0\.0\.0\.0)|\/ip6\/(::1?)\//.test(a));
    return {
      peerId: node?.peerId.toString() ?? null,
      listen: addrs,
      shareable,
      dhtMode: dhtServerMode(this.config) ? "server" : "client",
      dhtPeers: routingTableSize(node),
      dhtProviderRecords: node ? providerStats(node) ?? null : null,
      connections: node?.getConnections().length ?? 0,
      seeds: this.seeds.list().length,
      cacheBytes: this.cache.totalBytes,
      downloads: [...this.downloads.entries()].map(([hex, d]) => ({
        narHash: hex,
        peers: d.download.peers,
        have: d.download.entry.haveCount,
        blocks: d.download.entry.blockCount,
        contributions: d.download.contributions(),
      })),
    };
  }
}

function routingTableSize(node: P2pNode | undefined): number {
  // The routing table is not in kad-dht's public type (platform notes §2.1).
  const dht = node?.services.dht as unknown as { routingTable?: { size?: number } } | undefined;
  return dht?.routingTable?.size ?? 0;
}
