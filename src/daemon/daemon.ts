/**
 * The guix-p2p daemon: narinfo resolution and caching, the fetch planner, the
 * control socket, and (when enabled) the P2P node and the Nix gateway, with
 * an explicit start/stop lifecycle.
 *
 * @example
 * ```ts
 * import { Daemon } from "./daemon.ts";
 * await using daemon = new Daemon(config);
 * await daemon.start();
 * ```
 * @module
 */
import type { Config } from "../config/schema.ts";
import { listenControlSocket } from "../control/deno_socket.ts";
import { ControlServer } from "../control/server.ts";
import { EventBus } from "../events/bus.ts";
import { createFlavour, type Flavour, type FlavourTrust } from "../fetch/flavour.ts";
import type { SourceFactory } from "../fetch/source.ts";
import { directoryCacheStore } from "../http/deno_cache_store.ts";
import { NarinfoCache } from "../http/narinfo_cache.ts";
import { parseNixPublicKey } from "../trust/nix_key.ts";
import { Gateway } from "../gateway/gateway.ts";
import type { LocalNars } from "../fetch/local.ts";
import { VERSION } from "../version.ts";
import { WatchedAcl } from "./deno_acl.ts";
import { mapDaemonError } from "./error_map.ts";
import type { DaemonEvents } from "./events.ts";
import type { PeerIndex } from "../fetch/peers.ts";
import { type AdminExtension, DaemonHandler } from "./handler.ts";
import { HeldNarinfos } from "./held_narinfos.ts";
import type { PeerNarinfoSource } from "../http/peer_narinfos.ts";

/** A component started and stopped with the daemon (the P2P node, the gateway). */
export interface DaemonPart {
  /** Starts the part. */
  start(): Promise<void>;
  /** Stops the part. */
  stop(): Promise<void>;
}

/** Optional parts plugged into the daemon. */
export interface DaemonPlugins {
  /** P2P sources for the planner. */
  p2p?: SourceFactory;
  /** The P2P layer's batch index (p2p-only lookups, prefetch). */
  peers?: PeerIndex;
  /** Admin commands beyond status/transfers. */
  admin?: AdminExtension;
  /** Parts with their own lifecycle, started after the control socket. */
  parts?: DaemonPart[];
  /** Called when the helper reports a finished substitution (auto-seeding). */
  onSubstituted?: (
    info: { storePath: string; narHash: string; narSize: number; source: string },
  ) => Promise<void>;
  /** The event bus to use (so plugins can emit on it). */
  bus?: EventBus<DaemonEvents>;
  /** Verified NARs held locally (the gateway serves them first). */
  local?: LocalNars;
  /** Narinfos from peers (asked per `narinfo_peers`). */
  peerNarinfos?: PeerNarinfoSource;
  /** Whether a NarHash (hex) is seeded here (for `narinfo_serve = "seeded"`). */
  seeded?: (narHashHex: string) => boolean;
}

/** The daemon. */
export class Daemon {
  readonly config: Config;
  readonly bus: EventBus<DaemonEvents>;
  /** Guix items: `substitute_urls`, the store, the ACL. */
  readonly guix: Flavour;
  /** Nix items for the gateway: `nix_upstream_urls`, `/nix/store`, the trusted keys. */
  readonly nix: Flavour;
  readonly handler: DaemonHandler;
  readonly gateway: Gateway | undefined;
  /** The verified narinfos this daemon holds, as served to peers. */
  readonly held: HeldNarinfos;
  #acl: WatchedAcl;
  #server: ControlServer | undefined;
  #plugins: DaemonPlugins;
  #started = false;

  /** Builds the daemon (nothing runs until {@linkcode start}). */
  constructor(config: Config, plugins: DaemonPlugins = {}) {
    this.config = config;
    this.#plugins = plugins;
    this.bus = plugins.bus ?? new EventBus<DaemonEvents>();
    this.#acl = this.#watchAcl();
    const cache = new NarinfoCache(directoryCacheStore(`${config.cache_dir}/narinfo`), {
      maxNegativeEntries: config.narinfo_negative_cache_entries,
    });
    this.guix = this.#flavour(cache, {
      flavour: "guix",
      storeDir: config.store_dir,
      acl: () => this.#acl.current(),
    });
    this.nix = this.#flavour(cache, {
      flavour: "nix",
      storeDir: config.nix_store_dir,
      keys: config.nix_trusted_public_keys.map(parseNixPublicKey),
    });
    this.held = new HeldNarinfos({
      cache,
      config,
      guix: this.guix,
      nix: this.nix,
      ...(plugins.seeded ? { seeded: plugins.seeded } : {}),
    });
    this.gateway = this.#gateway();
    this.handler = this.#handler();
  }

  /** The ACL, reloaded when its file changes; each (re)load is reported on the bus. */
  #watchAcl(): WatchedAcl {
    const path = this.config.acl_path;
    return new WatchedAcl(path, {
      onLoad: (acl, error) => {
        if (error) this.bus.emit("daemon:warning", { message: error.message });
        else this.bus.emit("acl:loaded", { path, keys: acl.entries.length });
      },
    });
  }

  /** One flavour's resolver and planner, with the daemon's settings and events. */
  #flavour(cache: NarinfoCache, trust: FlavourTrust): Flavour {
    const { config, bus } = this;
    return createFlavour({
      ...trust,
      cache,
      settings: {
        narinfoTtl: config.narinfo_ttl,
        negativeTtl: config.narinfo_negative_ttl,
        errorTtl: config.narinfo_error_ttl,
        connectTimeout: config.http_connect_timeout,
        stallTimeout: config.http_stall_timeout,
        parallelism: config.http_parallelism,
      },
      http: {
        preference: config.compression_preference,
        engine: config.decompressor,
        connectTimeout: config.http_connect_timeout,
        stallTimeout: config.http_stall_timeout,
      },
      p2p: this.#plugins.p2p,
      peerNarinfos: this.#plugins.peerNarinfos && config.narinfo_peers !== "off"
        ? { source: this.#plugins.peerNarinfos, mode: config.narinfo_peers }
        : undefined,
      emit: (type, payload) => bus.emit(type, payload as DaemonEvents[typeof type]),
      onServerError: (url, message) => bus.emit("narinfo:server-error", { url, message }),
    });
  }

  /** The Nix/Guix binary-cache gateway, when `gateway_listen` is set. */
  #gateway(): Gateway | undefined {
    if (this.config.gateway_listen === "") return undefined;
    const { local } = this.#plugins;
    return new Gateway({
      config: this.config,
      nix: this.nix,
      guix: this.guix,
      ...(local ? { local } : {}),
      ...(this.#plugins.peers ? { peers: this.#plugins.peers } : {}),
      emit: (type, payload) => this.bus.emit(type, payload as DaemonEvents[typeof type]),
    });
  }

  /** The answers to control requests. */
  #handler(): DaemonHandler {
    const { peers, admin, onSubstituted } = this.#plugins;
    return new DaemonHandler({
      config: this.config,
      guix: this.guix,
      bus: this.bus,
      startedAt: Date.now(),
      ...(peers ? { peers } : {}),
      ...(admin ? { admin } : {}),
      ...(onSubstituted ? { onSubstituted } : {}),
    });
  }

  /** Creates the cache directory, loads the ACL, opens the control socket, starts the parts. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await Deno.mkdir(this.config.cache_dir, { recursive: true, mode: 0o755 });
    await this.guix.authorizer();
    const socketDir = this.config.socket_path.slice(0, this.config.socket_path.lastIndexOf("/"));
    if (socketDir) await Deno.mkdir(socketDir, { recursive: true, mode: 0o755 });
    const listener = await listenControlSocket(this.config.socket_path, {
      ...(this.config.socket_group ? { group: this.config.socket_group } : {}),
    });
    this.#server = new ControlServer(listener, this.handler, {
      mapError: mapDaemonError,
      maxClients: this.config.max_control_clients,
      onConnectionError: (e) => this.bus.emit("control:error", { message: (e as Error).message }),
    });
    this.#server.start();
    try {
      for (const part of this.#plugins.parts ?? []) await part.start();
      await this.gateway?.start();
    } catch (e) {
      // Leave no stale socket behind (doctor and the extension would find one).
      await this.stop("start failed");
      throw e;
    }
    this.bus.emit("daemon:started", {
      socket: this.config.socket_path,
      version: VERSION,
      pid: Deno.pid,
    });
  }

  /** Stops the parts and the control socket (idempotent). */
  async stop(reason = "stop requested"): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    const t0 = performance.now();
    this.bus.emit("daemon:stopping", { reason });
    await this.gateway?.stop();
    for (const part of [...(this.#plugins.parts ?? [])].reverse()) {
      await part.stop().catch(() => {});
    }
    await this.#server?.stop();
    await Deno.remove(this.config.socket_path).catch(() => {});
    this.bus.emit("daemon:stopped", { ms: performance.now() - t0 });
  }

  /** Same as {@linkcode stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
