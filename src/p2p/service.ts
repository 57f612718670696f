/**
 * The P2P layer of the daemon: builds its parts from the configuration and
 * runs them with one start/stop lifecycle — the libp2p node and its peer
 * upkeep, the block store (cache and seeds), the serving side (block server,
 * provider records, seeding policy) and the fetching side (shared peer
 * links, the availability index, whole-NAR fetches, swarm downloads, the
 * planner's sources and closure prefetch). Admin commands and reports live
 * at the daemon's edge (`src/daemon/p2p_admin.ts`).
 *
 * @example
 * ```ts
 * const p2p = new P2pService(config, { emit: (type, payload) => bus.emit(type, payload) });
 * const daemon = new Daemon(config, { p2p: p2p.sources, peers: p2p.index, parts: [p2p] });
 * ```
 * @module
 */
import type { Config } from "../config/schema.ts";
import { hexEncode } from "../encoding/hex.ts";
import { formatNarHash } from "../hash/nar_hash.ts";
import type { LocalNars } from "../fetch/local.ts";
import type { PeerIndex, PeerIndexItem } from "../fetch/peers.ts";
import { BlockCache } from "./store/deno_block_cache.ts";
import { loadOrCreateIdentity } from "./deno_identity.ts";
import { readJsonFile, writeJsonFile } from "./deno_json_file.ts";
import { SeedRegistry } from "./store/deno_seeds.ts";
import { denoSeedStores } from "./store/deno_catalog.ts";
import { checkEntry } from "./store/check_entry.ts";
import { Availability } from "./download/availability.ts";
import { PeerLinks } from "./download/links.ts";
import { Prefetcher } from "./download/prefetch.ts";
import { DownloadRegistry } from "./download/registry.ts";
import { networkOf } from "./download/origins.ts";
import { P2pSources } from "./download/sources.ts";
import { WholeFetcher } from "./download/whole.ts";
import { type P2pEmitter, type P2pEvents, partEmitter } from "./events.ts";
import { createNode, dhtServerMode, type P2pNode, routingTableSize } from "./node.ts";
import { PeerBook } from "./peer_book.ts";
import { FairRateLimiter } from "./rate/mod.ts";
import { BlockServer } from "./serve/block_server.ts";
import { BulkListener, listenHosts } from "./serve/deno_bulk_listener.ts";
import { dialBulk } from "./download/deno_bulk_dial.ts";
import { bulkLaneAllowed } from "./bulk_lane.ts";
import { libp2pSweepDht } from "./serve/libp2p_sweep_dht.ts";
import { SweepProvider } from "./serve/sweep_provider.ts";
import { Seeding } from "./serve/seeding.ts";
import { NarinfoPeers } from "./narinfo/mod.ts";
import { PeerUpkeep } from "./upkeep.ts";
import { CompressedBlockCache, MAX_WHOLE_NAR } from "./wire/mod.ts";

export type { P2pEmitter } from "./events.ts";

/** The P2P service. */
export class P2pService {
  readonly config: Config;
  readonly peerBook: PeerBook;
  readonly cache: BlockCache;
  readonly seeds: SeedRegistry;
  readonly uploadLimiter: FairRateLimiter;
  readonly downloadLimiter: FairRateLimiter;
  readonly links: PeerLinks;
  readonly availability: Availability;
  readonly whole: WholeFetcher;
  readonly registry: DownloadRegistry;
  /** Provider records, reprovided by keyspace region. */
  readonly records: SweepProvider;
  readonly seeding: Seeding;
  /** The planner's P2P source factory. */
  readonly sources: P2pSources;
  readonly prefetcher: Prefetcher;
  /** What the daemon asks about whole batches (p2p-only `have`, prefetch). */
  readonly index: PeerIndex;
  /** Signed narinfos from and to peers (the resolver's peer source). */
  readonly narinfos: NarinfoPeers;
  /** Verified NARs of the block cache, for the gateway. */
  readonly local: LocalNars;
  readonly emit: P2pEmitter;
  #node: P2pNode | undefined;
  #compressed: CompressedBlockCache;
  #server: BlockServer | undefined;
  #bulk: BulkListener | undefined;
  #upkeep: PeerUpkeep | undefined;
  #pruneTimer: ReturnType<typeof setInterval> | undefined;
  #running = false;
  #stopping = new AbortController();

  /** Builds the parts (nothing runs until {@linkcode start}). */
  constructor(config: Config, options: { emit?: P2pEmitter } = {}) {
    const c = config;
    this.config = c;
    const outer: P2pEmitter = options.emit ?? (() => {});
    // A new seed's narinfo is announced in the DHT when this node holds it.
    const emit: P2pEmitter = (type, payload) => {
      outer(type, payload);
      if (type === "seed:added") {
        this.narinfos?.seeded([(payload as P2pEvents["seed:added"]).storePath]);
      }
    };
    this.emit = emit;
    const node = () => this.node;
    const running = () => this.#running;
    this.peerBook = new PeerBook({
      banThreshold: c.ban_threshold,
      banDurationMs: c.ban_duration * 1000,
      maxPeers: Math.max(c.known_peers_max, 16),
    });
    // Compressed blocks served from an entry go when the entry goes (a rejected or replaced
    // layout must never be served again from the cache).
    this.#compressed = new CompressedBlockCache({ maxBytes: 64 * 1024 * 1024 });
    this.cache = new BlockCache(`${c.cache_dir}/blocks`, {
      maxBytes: c.cache_size,
      onRemove: (hex) => this.#compressed.drop(hex),
      // An entry evicted to make room is no longer served: stop announcing it (unless seeded).
      onEvict: (e) => {
        if (!this.seeds.isSeeded(e.hex)) void this.records.unprovide(e.layout.narHash);
      },
    });
    this.seeds = new SeedRegistry({
      cacheDir: c.cache_dir,
      cache: this.cache,
      blockSize: c.block_size,
      storeDirs: [c.store_dir, c.nix_store_dir],
    });
    this.uploadLimiter = new FairRateLimiter({ bytesPerSecond: c.max_upload_rate });
    this.downloadLimiter = new FairRateLimiter({ bytesPerSecond: c.max_download_rate });
    this.links = new PeerLinks({
      node,
      maxMessageSize: c.max_message_size,
      timeoutMs: 10_000,
      ...(c.bulk_lane !== "off" ? { bulk: { policy: c.bulk_lane, dial: dialBulk } } : {}),
      onFault: (peer, error) => {
        const reason = `protocol violation: ${error.message}`;
        emit("peer:penalised", { peer, reason, ...this.peerBook.fault(peer, reason) });
      },
    });
    this.availability = new Availability({
      node,
      links: this.links,
      peerBook: this.peerBook,
      minProviders: c.min_providers,
      discoveryTimeout: c.discovery_timeout,
      maxProviders: c.max_peers_per_download,
      onDhtLookup: (narHash, count, ms) => emit("providers:found", { narHash, count, ms }),
    });
    this.whole = new WholeFetcher({
      links: this.links,
      availability: this.availability,
      cache: this.cache,
      peerBook: this.peerBook,
      limiter: this.downloadLimiter,
      blockSize: c.block_size,
      stallMs: c.block_request_timeout * 1000,
      emit: partEmitter(emit),
    });
    this.records = new SweepProvider({
      dht: libp2pSweepDht(node, { protocol: c.dht_protocol }),
      // Records are valid 48 h: refreshed at least every 24 h.
      intervalMs: Math.min(c.reprovide_interval, 24 * 3600) * 1000,
      // Half of the limits every node applies to each sender (dht_provider_*).
      peerRate: Math.max(1, c.dht_provider_rate / 2),
      peerBurst: Math.max(1, Math.floor(c.dht_provider_burst / 2)),
      emit: partEmitter(emit),
    });
    this.registry = new DownloadRegistry({
      cache: this.cache,
      peerBook: this.peerBook,
      keep: () => c.auto_seed !== "off",
      unprovide: (h) => this.records.unprovide(h),
      check: (entry) => checkEntry(entry),
      forget: (hex, peer) => this.availability.forget(hex, peer),
      emit: partEmitter(emit),
    });
    this.seeding = new Seeding({
      seeds: this.seeds,
      cache: this.cache,
      records: this.records,
      storeDirs: [c.store_dir, c.nix_store_dir],
      autoSeed: c.auto_seed,
      seedPaths: c.seed_paths,
      seedProfiles: c.seed_profiles,
      indexRate: c.seed_index_rate,
      stores: denoSeedStores(c),
      settled: (hex) => this.registry.settled(hex),
      onUnseed: (hex) => this.#compressed.drop(hex),
      emit: partEmitter(emit),
    });
    this.sources = new P2pSources({
      running,
      cache: this.cache,
      availability: this.availability,
      whole: this.whole,
      links: this.links,
      registry: this.registry,
      peerBook: this.peerBook,
      limiter: this.downloadLimiter,
      minProviders: c.min_providers,
      maxPeersPerDownload: c.max_peers_per_download,
      blockRequestTimeout: c.block_request_timeout,
      announce: () => c.auto_seed !== "off",
      provide: (h) => this.records.provide(h, { later: true }),
      networkOf: (peer) => {
        const conn = this.#node?.getConnections().find((c) => c.remotePeer.toString() === peer);
        return conn ? networkOf(conn.remoteAddr.toString()) : undefined;
      },
      emit: partEmitter(emit),
    });
    this.prefetcher = new Prefetcher({
      availability: this.availability,
      whole: this.whole,
      cache: this.cache,
      maxBytes: c.prefetch_bytes,
      minProviders: c.min_providers,
      dht: true,
      prepare: (it, signal) =>
        this.sources.prepare({
          storePath: it.storePath,
          narHash: formatNarHash(it.narHash),
          narHashDigest: it.narHash,
          narSize: it.narSize,
          urls: [],
        }, signal ?? this.#stopping.signal),
      emit: partEmitter(emit),
    });
    this.narinfos = new NarinfoPeers({
      config: c,
      node,
      running,
      peerBook: this.peerBook,
      emit: partEmitter(emit),
    });
    this.local = this.#localNars();
    this.index = {
      providers: async (items, opts) => {
        if (!this.#running) return items.map(() => 0);
        const found = await this.availability.query(items, opts);
        // A small NAR comes whole from a peer that has all of it: partial
        // providers (relays still downloading) cannot serve it, so they do not count.
        return items.map((it) =>
          (found.get(hexEncode(it.narHash)) ?? []).filter((p) =>
            it.narSize > MAX_WHOLE_NAR || p.state === "complete"
          ).length
        );
      },
      prefetch: (items: PeerIndexItem[]) => this.#prefetchSoon(items),
      mismatch: (narHash) => this.registry.mismatch(hexEncode(narHash)),
    };
  }

  #batch: PeerIndexItem[] = [];
  #batchTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Prefetch requests made within 20 ms form one batch (a Nix client asks for
   * a closure's narinfos one by one, in parallel): one `HAVE` per peer for all.
   */
  #prefetchSoon(items: PeerIndexItem[]): void {
    if (!this.#running) return;
    this.#batch.push(...items);
    if (this.#batch.length >= 1024) return this.#flushPrefetch();
    this.#batchTimer ??= setTimeout(() => this.#flushPrefetch(), 20);
  }

  #flushPrefetch(): void {
    clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    // The same item is often asked for twice (HEAD then GET of its narinfo).
    const batch = [...new Map(this.#batch.map((it) => [hexEncode(it.narHash), it])).values()];
    this.#batch = [];
    if (this.#running && batch.length > 0) this.prefetcher.prefetch(batch);
  }

  #localNars(): LocalNars {
    return {
      verified: (narHash) => {
        const entry = this.cache.get(hexEncode(narHash));
        if (!entry?.verified || !entry.complete) return undefined;
        return {
          narSize: entry.layout.narSize,
          read: (offset, length) => entry.read(offset, length),
          pin: () => entry.pin(),
        };
      },
    };
  }

  /** The libp2p node (after start). */
  get node(): P2pNode {
    if (!this.#node) throw new Error("the P2P node is not running");
    return this.#node;
  }

  /** The node if it runs (for reports). */
  get nodeIfRunning(): P2pNode | undefined {
    return this.#running ? this.#node : undefined;
  }

  /** True between start and stop. */
  get running(): boolean {
    return this.#running;
  }

  /** Starts the node and everything around it. */
  async start(): Promise<void> {
    const c = this.config;
    await Deno.mkdir(c.cache_dir, { recursive: true, mode: 0o700 });
    this.peerBook.restore(await readJsonFile(`${c.cache_dir}/peers.json`));
    await this.cache.load();
    await this.seeds.load();
    const key = await loadOrCreateIdentity(c.cache_dir);
    const node = await createNode(c, key, {
      isBanned: (p) => this.peerBook.isBanned(p.toString()),
      emit: partEmitter(this.emit),
      // A flood is reported only after ten refusals past a generous burst, which an honest
      // node (announcing a few records at a time) never causes: banned at once.
      onAbuse: (peer, reason) =>
        this.emit("peer:penalised", {
          peer,
          reason,
          ...this.peerBook.fault(peer, reason, c.ban_threshold),
        }),
    });
    this.#node = node;
    this.#upkeep = new PeerUpkeep({
      node,
      peerBook: this.peerBook,
      bootstrapPeers: c.bootstrap_peers,
      maxConnections: c.max_connections,
      dhtProtocol: c.dht_protocol,
      save: () => writeJsonFile(`${c.cache_dir}/peers.json`, this.peerBook.snapshot()),
      onDisconnect: (peer) => {
        this.links.closePeer(peer);
        this.availability.peerGone(peer);
      },
      emit: partEmitter(this.emit),
    });
    const compress = (conn: { remoteAddr: { toString(): string } }) =>
      c.block_compression === "always" ||
      (c.block_compression === "auto" && !onThisHost(conn.remoteAddr.toString()));
    const hosts = c.bulk_lane === "off" ? [] : listenHosts(c.listen);
    this.#bulk = hosts.length === 0 ? undefined : new BulkListener({
      hosts,
      port: c.bulk_port,
      server: { serveChannel: (...a) => this.#server!.serveChannel(...a) },
      allowed: (conn) => bulkLaneAllowed(c.bulk_lane, conn.remoteAddr.toString()),
      compress,
      emit: partEmitter(this.emit),
    });
    this.#server = new BlockServer({
      node,
      seeds: this.seeds,
      limiter: this.uploadLimiter,
      peerBook: this.peerBook,
      compressed: this.#compressed,
      maxMessageSize: c.max_message_size,
      maxStreamsPerPeer: c.max_streams_per_peer,
      compress,
      ...(this.#bulk ? { bulk: this.#bulk } : {}),
      stallTimeoutMs: c.block_stream_stall_timeout * 1000,
      emit: (type, payload) => this.emit(type, payload as never),
    });
    await node.start();
    const table = (node.services.dht as unknown as { routingTable?: EventTarget }).routingTable;
    const onTable = () => this.emit("dht:size", { peers: routingTableSize(node) });
    table?.addEventListener("peer:add", onTable);
    table?.addEventListener("peer:remove", onTable);
    await this.#server.start();
    await this.#bulk?.start();
    await this.narinfos.start(node);
    this.#running = true;
    this.links.start();
    this.#pruneTimer = setInterval(() => this.availability.prune(), 60_000);
    this.emit("p2p:started", {
      peerId: node.peerId.toString(),
      addresses: node.getMultiaddrs().map(String),
      dhtMode: dhtServerMode(c) ? "server" : "client",
    });
    this.#upkeep.start();
    this.records.start();
    this.seeding.startUp();
    this.narinfos.seeded(this.seeds.list().map((s) => s.storePath));
  }

  /** Stops everything (idempotent). */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#stopping.abort(new Error("stopping"));
    clearInterval(this.#pruneTimer);
    clearTimeout(this.#batchTimer);
    await this.records.stop();
    this.seeding.stop();
    this.registry.abortAll(new Error("daemon stopping"));
    this.links.stop();
    await this.narinfos.stop();
    await this.#bulk?.stop();
    await this.#server?.stop();
    await this.#upkeep?.stop();
    await this.seeds.flush().catch(() => {});
    await this.cache.close();
    await this.#node?.stop();
  }

  /** Same as {@linkcode stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Whether a multiaddr is a loopback address (a peer on this host). */
function onThisHost(address: string): boolean {
  return /^\/ip4\/127\.|^\/ip6\/::1\//.test(address);
}
