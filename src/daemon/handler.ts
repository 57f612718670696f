/**
 * The daemon's answers to control requests: narinfo lookups through the
 * resolver, NAR fetches through the planner, substitution reports, and admin
 * commands. Errors are left to {@linkcode mapDaemonError}.
 *
 * @example
 * ```ts
 * const handler = new DaemonHandler({ config, guix, bus });
 * const server = new ControlServer(listener, handler, { mapError: mapDaemonError });
 * ```
 * @module
 */
import type { Config } from "../config/schema.ts";
import type { AdminCommand, LookupItem, Request } from "../control/messages.ts";
import type { RequestContext, SignedFetch } from "../control/server.ts";
import type { FetchSink, Policy } from "../fetch/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { Flavour } from "../fetch/flavour.ts";
import type { PeerIndex, PeerIndexItem } from "../fetch/peers.ts";
import { NarHashMismatchError } from "../fetch/errors.ts";
import { parseNarHash } from "../hash/nar_hash.ts";
import { parseStorePath } from "../store/store_path.ts";
import { VERSION } from "../version.ts";
import { BadRequestError } from "./error_map.ts";
import type { DaemonEvents } from "./events.ts";
import { requestUrls } from "./request_urls.ts";

/** Extra admin commands provided by other parts (P2P adds peers, seeds, ...). */
export type AdminExtension = (
  command: AdminCommand,
  args: string[],
) => Promise<unknown> | undefined;

/** Dependencies of {@linkcode DaemonHandler}. */
export interface DaemonHandlerOptions {
  config: Config;
  /** Guix items: resolver, planner, and the authorizer (refreshed before each request). */
  guix: Flavour;
  bus: EventBus<DaemonEvents>;
  /** The P2P layer's batch index (providers for p2p-only lookups, prefetch). */
  peers?: PeerIndex;
  admin?: AdminExtension;
  startedAt?: number;
  onSubstituted?: (
    info: { storePath: string; narHash: string; narSize: number; source: string },
  ) => Promise<void>;
}

/** Implements the control protocol for the daemon. */
export class DaemonHandler {
  #o: DaemonHandlerOptions;
  #active = new Map<
    number,
    { storePath: string; started: number; bytes: number; narSize: number }
  >();
  #nextId = 1;

  /** Creates the handler. */
  constructor(options: DaemonHandlerOptions) {
    this.#o = options;
  }

  /** Resolves narinfos (first authorized answer per path, servers in order). */
  async lookup(
    req: Extract<Request, { kind: "lookup" }>,
    ctx: RequestContext,
  ): Promise<LookupItem[]> {
    const { config } = this.#o;
    const started = performance.now();
    const storeDir = config.store_dir;
    for (const p of req.storePaths) parseStorePath(p, storeDir);
    await this.#o.guix.authorizer();
    const { urls } = requestUrls(req.urls, config);
    const policy = req.policy ?? config.policy;
    const resolved = await this.#o.guix.resolver.resolve(req.storePaths, urls, {
      signal: ctx.signal,
      storeDir,
      peers: policy !== "http-only",
    });
    // The NARs of what was found: a closure's `have`/`info` comes before its substitutions,
    // so peers are asked about the whole batch at once and what they have is fetched ahead.
    const batch: PeerIndexItem[] = [];
    for (const path of req.storePaths) {
      const r = resolved.get(path)!;
      if (r.kind === "found") {
        batch.push({
          storePath: path,
          narHash: parseNarHash(r.narHash),
          narSize: r.narSize,
          ...(r.references ? { references: r.references } : {}),
        });
      }
    }
    const peers = this.#o.peers;
    let counts: Map<string, number> | undefined;
    if (policy === "p2p-only") {
      const n = peers ? await peers.providers(batch, { dht: true, signal: ctx.signal }) : [];
      counts = new Map(batch.map((b, i) => [b.storePath, n[i] ?? 0]));
    }
    if (peers && policy !== "http-only" && batch.length > 0) peers.prefetch(batch);
    const items: LookupItem[] = [];
    for (const path of req.storePaths) {
      const r = resolved.get(path)!;
      if (r.kind === "missing") {
        items.push({ kind: "missing", storePath: path, reason: r.reason });
        continue;
      }
      if (counts) {
        const providers = counts.get(path) ?? 0;
        if (providers < config.min_providers) {
          items.push({
            kind: "missing",
            storePath: path,
            reason: `p2p-only: ${providers} provider(s), ${config.min_providers} needed`,
          });
          continue;
        }
        items.push({
          kind: "found",
          storePath: path,
          narinfo: r.text,
          cacheUrl: r.cacheUrl,
          providers,
        });
        continue;
      }
      items.push({ kind: "found", storePath: path, narinfo: r.text, cacheUrl: r.cacheUrl });
    }
    this.#o.bus.emit("lookup:done", {
      paths: req.storePaths.length,
      found: items.filter((i) => i.kind === "found").length,
      durationMs: performance.now() - started,
    });
    return items;
  }

  /** Streams a NAR. */
  async fetch(
    req: SignedFetch,
    sink: FetchSink,
    ctx: RequestContext,
  ): Promise<number> {
    const { config } = this.#o;
    parseStorePath(req.storePath, config.store_dir);
    const digest = parseNarHash(req.narHash);
    const policy: Policy = req.policy ?? config.policy;
    await this.#o.guix.authorizer();
    const { urls } = requestUrls(req.urls, config);
    // The NarHash and NarSize a client names are checked against the signed narinfo the daemon
    // itself holds for that path: peers are judged (and penalised) by them, so they must not
    // be whatever a local client says.
    await this.#assertSigned(req.storePath, req.narHash, req.narSize, urls, ctx.signal);
    const id = this.#nextId++;
    const entry = { storePath: req.storePath, started: Date.now(), bytes: 0, narSize: req.narSize };
    this.#active.set(id, entry);
    const counting: FetchSink = {
      source: (info) => {
        if (info.offset === 0) entry.bytes = 0; // a (re)start from the first byte
        return sink.source(info);
      },
      progress: (t, total) => sink.progress(t, total),
      data: (bytes) => {
        entry.bytes += bytes.length;
        return sink.data(bytes);
      },
      ...(sink.file && sink.available
        ? {
          file: (info: Parameters<NonNullable<FetchSink["file"]>>[0]) => sink.file!(info),
          available: (bytes: number) => {
            entry.bytes = bytes;
            return sink.available!(bytes);
          },
        }
        : {}),
    };
    try {
      return await this.#o.guix.planner.fetch(
        {
          storePath: req.storePath,
          narHash: req.narHash,
          narHashDigest: digest,
          narSize: req.narSize,
          urls,
        },
        counting,
        // The helper restores into a scratch directory: it can rewind.
        { signal: ctx.signal, policy, rewind: true },
      );
    } catch (e) {
      // Every byte was sent: the helper verifies the NAR itself and reports
      // `hash-mismatch` with both digests, so finish the stream normally.
      if (e instanceof NarHashMismatchError && entry.bytes === req.narSize) return entry.bytes;
      throw e;
    } finally {
      this.#active.delete(id);
    }
  }

  /**
   * The helper found that the NAR it read did not hash to the signed
   * NarHash: the P2P layer checks its own copy and drops it (and penalises
   * its sources) only if it is wrong — a report alone proves nothing.
   */
  async report(req: Extract<Request, { kind: "report" }>): Promise<void> {
    parseStorePath(req.storePath, this.#o.config.store_dir);
    const digest = parseNarHash(req.narHash);
    const wrong = await this.#o.peers?.mismatch(digest) ?? false;
    this.#o.bus.emit("daemon:warning", {
      message: `the helper found a NarHash mismatch for ${req.storePath}; ${
        wrong ? "the peers' copy was wrong and is dropped" : "no wrong copy here"
      }`,
    });
  }

  /** Records a finished substitution; the P2P layer seeds it per `auto_seed` (in the background). */
  async substituted(
    req: Extract<Request, { kind: "substituted" }>,
    ctx?: RequestContext,
  ): Promise<void> {
    parseStorePath(req.storePath, this.#o.config.store_dir);
    parseNarHash(req.narHash);
    // Seeding trusts the block hashes of a matching download: the report must name the signed
    // NarHash of the path (a client cannot make us serve one item's bytes as another's).
    const { urls } = requestUrls(undefined, this.#o.config);
    await this.#assertSigned(req.storePath, req.narHash, req.narSize, urls, ctx?.signal);
    const info = {
      storePath: req.storePath,
      narHash: req.narHash,
      narSize: req.narSize,
      source: req.source,
    };
    this.#o.bus.emit("substitution:recorded", info);
    this.#o.onSubstituted?.(info).catch((e) =>
      this.#o.bus.emit("daemon:warning", {
        message: `auto-seeding ${req.storePath}: ${(e as Error).message}`,
      })
    );
  }

  /** Throws unless the daemon holds a signed narinfo of `storePath` with this NarHash and size. */
  async #assertSigned(
    storePath: string,
    narHash: string,
    narSize: number,
    urls: readonly string[],
    signal?: AbortSignal,
  ): Promise<void> {
    await this.#o.guix.authorizer(); // the ACL, loaded (or reloaded) before judging
    const r = (await this.#o.guix.resolver.resolve([storePath], urls, {
      ...(signal ? { signal } : {}),
      storeDir: this.#o.config.store_dir,
    })).get(storePath);
    if (r?.kind !== "found") {
      throw new BadRequestError(`no signed narinfo for ${storePath} here`);
    }
    if (r.narHash !== narHash || r.narSize !== narSize) {
      throw new BadRequestError(
        `${storePath}: ${narHash} (${narSize} bytes) is not the NarHash and NarSize of its signed narinfo`,
      );
    }
  }

  /** Admin commands. */
  async admin(command: AdminCommand, args: string[]): Promise<unknown> {
    const extended = this.#o.admin?.(command, args);
    if (command === "status") return { ...this.status(), p2p: extended ? await extended : null };
    if (extended !== undefined) return await extended;
    switch (command) {
      case "transfers":
        return this.transfers();
      default:
        throw new BadRequestError(
          `"${command}" needs the peer-to-peer layer, which is not running`,
        );
    }
  }

  /** The daemon's own status fields. */
  status(): Record<string, unknown> {
    const { config } = this.#o;
    return {
      version: VERSION,
      pid: Deno.pid,
      uptimeSeconds: Math.round((Date.now() - (this.#o.startedAt ?? Date.now())) / 1000),
      storeDir: config.store_dir,
      socket: config.socket_path,
      policy: config.policy,
      substituteUrls: config.substitute_urls,
      activeTransfers: this.transfers(),
    };
  }

  /** Transfers in progress. */
  transfers(): { storePath: string; bytes: number; narSize: number; seconds: number }[] {
    return [...this.#active.values()].map((t) => ({
      storePath: t.storePath,
      bytes: t.bytes,
      narSize: t.narSize,
      seconds: Math.round((Date.now() - t.started) / 1000),
    }));
  }
}
