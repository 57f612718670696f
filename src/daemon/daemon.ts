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
import { HttpSources } from "../fetch/http_sources.ts";
import { FetchPlanner, type SourceFactory } from "../fetch/planner.ts";
import { directoryCacheStore } from "../http/deno_cache_store.ts";
import { NarinfoCache } from "../http/narinfo_cache.ts";
import { NarinfoResolver } from "../http/resolver.ts";
import { NarinfoAuthorizer } from "../substitute/authorize.ts";
import type { Acl } from "../trust/acl.ts";
import { Gateway } from "../gateway/gateway.ts";
import { nixNarinfoCheck } from "../gateway/nix_check.ts";
import type { BlockCache } from "../p2p/deno_block_cache.ts";
import { VERSION } from "../version.ts";
import { WatchedAcl } from "./deno_acl.ts";
import { mapDaemonError } from "./error_map.ts";
import type { DaemonEvents } from "./events.ts";
import type { PeerIndex } from "../fetch/peers.ts";
import { type AdminExtension, DaemonHandler } from "./handler.ts";

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
  /** The P2P block cache (the gateway serves verified NARs from it). */
  blockCache?: () => BlockCache | undefined;
}

/** The daemon. */
export class Daemon {
  readonly config: Config;
  readonly bus: EventBus<DaemonEvents>;
  readonly resolver: NarinfoResolver;
  readonly planner: FetchPlanner;
  /** Planner for Nix items (Nix upstream caches, Nix narinfos). */
  readonly nixPlanner: FetchPlanner;
  readonly nixResolver: NarinfoResolver;
  readonly handler: DaemonHandler;
  readonly gateway: Gateway | undefined;
  #acl: WatchedAcl;
  #authorizer: NarinfoAuthorizer | undefined;
  #server: ControlServer | undefined;
  #plugins: DaemonPlugins;
  #started = false;

  /** Builds the daemon (nothing runs until {@linkcode start}). */
  constructor(config: Config, plugins: DaemonPlugins = {}) {
    this.config = config;
    this.#plugins = plugins;
    this.bus = plugins.bus ?? new EventBus<DaemonEvents>();
    this.#acl = new WatchedAcl(config.acl_path, {
      onLoad: (acl, error) => {
        if (error) this.bus.emit("daemon:warning", { message: error.message });
        else this.bus.emit("acl:loaded", { path: config.acl_path, keys: acl.entries.length });
      },
    });
    const cache = new NarinfoCache(directoryCacheStore(`${config.cache_dir}/narinfo`), {
      maxNegativeEntries: config.narinfo_negative_cache_entries,
    });
    this.resolver = new NarinfoResolver({
      cache,
      check: (text, storePath) => {
        const verdict = this.#authorizer!.check(text, storePath);
        return verdict.ok
          ? { ok: true, narHash: verdict.narinfo.narHash, narSize: verdict.narinfo.narSize }
          : verdict;
      },
      settings: {
        narinfoTtl: config.narinfo_ttl,
        negativeTtl: config.narinfo_negative_ttl,
        errorTtl: config.narinfo_error_ttl,
        connectTimeout: config.http_connect_timeout,
        stallTimeout: config.http_stall_timeout,
        parallelism: config.http_parallelism,
      },
      events: {
        onServerError: (url, message) => this.bus.emit("narinfo:server-error", { url, message }),
      },
    });
    const http = new HttpSources({
      resolver: this.resolver,
      storeDir: config.store_dir,
      preference: config.compression_preference,
      engine: config.decompressor,
      connectTimeout: config.http_connect_timeout,
      stallTimeout: config.http_stall_timeout,
    });
    this.planner = new FetchPlanner({
      http,
      ...(plugins.p2p ? { p2p: plugins.p2p } : {}),
      emit: (type, payload) => this.bus.emit(type, payload as DaemonEvents[typeof type]),
    });
    const nixCheck = nixNarinfoCheck(config.nix_trusted_public_keys, config.nix_store_dir);
    this.nixResolver = new NarinfoResolver({
      cache,
      check: nixCheck,
      settings: this.resolver.settings,
      events: {
        onServerError: (url, message) => this.bus.emit("narinfo:server-error", { url, message }),
      },
    });
    this.nixPlanner = new FetchPlanner({
      http: new HttpSources({
        resolver: this.nixResolver,
        storeDir: config.nix_store_dir,
        preference: config.compression_preference,
        engine: config.decompressor,
        connectTimeout: config.http_connect_timeout,
        stallTimeout: config.http_stall_timeout,
        flavour: "nix",
      }),
      ...(plugins.p2p ? { p2p: plugins.p2p } : {}),
      emit: (type, payload) => this.bus.emit(type, payload as DaemonEvents[typeof type]),
    });
    this.gateway = config.gateway_listen === "" ? undefined : new Gateway({
      config,
      nix: { resolver: this.nixResolver, planner: this.nixPlanner },
      guix: {
        resolver: this.resolver,
        planner: this.planner,
        authorize: async (text, hashPart) => {
          const authorizer = await this.#currentAuthorizer();
          const storePath = /^StorePath:\s*(\S+)/m.exec(text)?.[1] ?? "";
          if (!storePath.startsWith(`${config.store_dir}/${hashPart}-`)) {
            return { ok: false, reason: `narinfo is not for ${hashPart}` };
          }
          const v = authorizer.check(text, storePath);
          return v.ok ? { ok: true, narinfo: v.narinfo } : { ok: false, reason: v.reason };
        },
      },
      ...(plugins.blockCache ? { cache: plugins.blockCache } : {}),
      emit: (type, payload) => this.bus.emit(type, payload as DaemonEvents[typeof type]),
    });
    this.handler = new DaemonHandler({
      config,
      resolver: this.resolver,
      planner: this.planner,
      authorizer: () => this.#currentAuthorizer(),
      bus: this.bus,
      startedAt: Date.now(),
      ...(plugins.peers ? { peers: plugins.peers } : {}),
      ...(plugins.admin ? { admin: plugins.admin } : {}),
      ...(plugins.onSubstituted ? { onSubstituted: plugins.onSubstituted } : {}),
    });
  }

  async #currentAuthorizer(): Promise<NarinfoAuthorizer> {
    const acl: Acl = await this.#acl.current();
    if (this.#authorizer?.acl !== acl) {
      this.#authorizer = new NarinfoAuthorizer(acl, { storeDir: this.config.store_dir });
    }
    return this.#authorizer;
  }

  /** Creates the cache directory, loads the ACL, opens the control socket, starts the parts. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await Deno.mkdir(this.config.cache_dir, { recursive: true, mode: 0o755 });
    await this.#currentAuthorizer();
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
    for (const part of this.#plugins.parts ?? []) await part.start();
    await this.gateway?.start();
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
    this.bus.emit("daemon:stopping", { reason });
    await this.gateway?.stop();
    for (const part of [...(this.#plugins.parts ?? [])].reverse()) {
      await part.stop().catch(() => {});
    }
    await this.#server?.stop();
    await Deno.remove(this.config.socket_path).catch(() => {});
  }

  /** Same as {@linkcode stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
