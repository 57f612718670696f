/**
 * Resolves store paths to narinfos across substitute servers, as
 * `guix substitute` does (../shared/docs/guix-substitute-protocol.md §2.4): servers in order,
 * each asked only for paths that have no authorized answer yet, with bounded
 * parallelism per server, keep-alive, and positive/negative/error caching.
 * A server that cannot be reached is skipped for the rest of the batch.
 *
 * Authorization is delegated to a {@linkcode NarinfoCheck} (signature against
 * the ACL, StorePath equal to the request); the resolver never trusts a
 * narinfo by itself.
 *
 * With {@linkcode ResolverPeers}, narinfos also come from peers (racing the
 * servers, or when they fail: `_peer_race.ts`), checked the same way and
 * cached under {@linkcode P2P_CACHE_URL} with the same TTLs.
 *
 * @example
 * ```ts
 * const resolver = new NarinfoResolver({ cache, check, settings });
 * const answers = await resolver.resolve(["/gnu/store/…-hello"], ["https://ci.guix.gnu.org"]);
 * ```
 * @module
 */
import { pooledMap } from "../std/async.ts";
import { parseStorePath } from "../store/store_path.ts";
import { fetchNarinfo } from "./_fetch_narinfo.ts";
import type { CacheEntry, NarinfoCache } from "./narinfo_cache.ts";
import { combineWithPeers } from "./_peer_race.ts";
import { P2P_CACHE_URL, type ResolverPeers } from "./peer_narinfos.ts";

/** Verdict of the caller's narinfo check. */
export type NarinfoCheck = (
  text: string,
  storePath: string,
  cacheUrl: string,
) =>
  | {
    ok: true;
    narHash: string;
    narSize: number;
    /** Base names of the store items it refers to (a hint of the order they are substituted in). */
    references?: readonly string[];
  }
  | { ok: false; reason: string };

/** One path's answer. */
export type Resolution =
  | {
    kind: "found";
    storePath: string;
    text: string;
    cacheUrl: string;
    narHash: string;
    narSize: number;
    /** Base names of the items it refers to, when the check gave them. */
    references?: readonly string[];
  }
  | { kind: "missing"; storePath: string; reason: string; transient?: boolean };

/** Timeouts, TTLs and limits (seconds, as in the config). */
export interface ResolverSettings {
  narinfoTtl: number;
  negativeTtl: number;
  errorTtl: number;
  connectTimeout: number;
  stallTimeout: number;
  parallelism: number;
}

/** Events the resolver reports (for logs). */
export interface ResolverEvents {
  /** A server could not be reached during a batch. */
  onServerError?: (cacheUrl: string, message: string) => void;
}

/** Resolves narinfos. */
export class NarinfoResolver {
  #cache: NarinfoCache;
  #check: NarinfoCheck;
  #settings: ResolverSettings;

  /** The settings (timeouts, TTLs, parallelism). */
  get settings(): ResolverSettings {
    return this.#settings;
  }
  #events: ResolverEvents;
  #now: () => number;
  #peers: ResolverPeers | undefined;

  /** Creates a resolver; with `peers`, narinfos also come from the swarm. */
  constructor(options: {
    cache: NarinfoCache;
    check: NarinfoCheck;
    settings: ResolverSettings;
    events?: ResolverEvents;
    now?: () => number;
    peers?: ResolverPeers | undefined;
  }) {
    this.#cache = options.cache;
    this.#check = options.check;
    this.#settings = options.settings;
    this.#events = options.events ?? {};
    this.#now = options.now ?? (() => Date.now() / 1000);
    this.#peers = options.peers;
  }

  /**
   * The first authorized narinfo for each path, trying `urls` in order (and
   * peers, unless `peers` is false: see the module documentation).
   */
  resolve(
    storePaths: readonly string[],
    urls: readonly string[],
    options: { signal?: AbortSignal | undefined; storeDir: string; peers?: boolean },
  ): Promise<Map<string, Resolution>> {
    return this.#resolveItems([...new Set(storePaths)], urls, {
      ...options,
      noUrls: "no substitute URLs configured",
    });
  }

  /**
   * The first narinfo, servers in order (and peers, unless `peers` is
   * false), for a store-path hash part that passes the check (called with
   * the hash part as its second argument; default: the resolver's). For
   * clients that name items by hash part only (the binary-cache gateway).
   */
  async resolveHashPart(
    hashPart: string,
    urls: readonly string[],
    options: { signal?: AbortSignal | undefined; check?: NarinfoCheck; peers?: boolean } = {},
  ): Promise<Resolution> {
    const answers = await this.#resolveItems([hashPart], urls, {
      ...options,
      byHashPart: true,
      noUrls: "no upstream URLs",
    });
    return answers.get(hashPart)!;
  }

  #resolveItems(items: string[], urls: readonly string[], options: ItemOptions) {
    const peers = this.#peers;
    if (!peers || peers.mode === "off" || options.peers === false || items.length === 0) {
      return this.#fromServers(items, urls, options);
    }
    return combineWithPeers(items, {
      mode: peers.mode,
      noServers: urls.length === 0,
      signal: options.signal,
      cached: (item) => this.#cached(item, urls, options),
      servers: (list, signal) => this.#fromServers(list, urls, { ...options, signal }),
      peers: (list, dht) => this.#fromPeers(peers, list, dht, options),
    });
  }

  /** Servers in order, each asked only for what has no authorized answer yet. */
  async #fromServers(
    items: string[],
    urls: readonly string[],
    options: ItemOptions,
  ): Promise<Map<string, Resolution>> {
    const result = new Map<string, Resolution>();
    const reasons = new Map<string, string[]>();
    const transient = new Set<string>();
    let pending = items;
    for (const url of urls) {
      if (pending.length === 0) break;
      const answers = await this.#askServer(url, pending, options);
      const still: string[] = [];
      for (const item of pending) {
        const a = answers.get(item);
        if (a?.kind === "found") result.set(item, a);
        else {
          still.push(item);
          if (a?.transient) transient.add(item);
          const list = reasons.get(item) ?? [];
          list.push(`${url}: ${a?.reason ?? "no answer"}`);
          reasons.set(item, list);
        }
      }
      pending = still;
    }
    for (const item of pending) {
      result.set(item, {
        kind: "missing",
        storePath: item,
        reason: urls.length === 0 ? options.noUrls : (reasons.get(item) ?? []).join("; "),
        ...(transient.has(item) ? { transient: true } : {}),
      });
    }
    return result;
  }

  /** An authorized answer already in memory (servers in order, then peers), or undefined. */
  #cached(item: string, urls: readonly string[], options: ItemOptions): Resolution | undefined {
    const hashPart = this.#hashPart(item, options);
    for (const url of [...urls, P2P_CACHE_URL]) {
      const entry = this.#cache.peek(url, hashPart);
      if (entry?.kind !== "found") continue;
      const r = this.#judge(entry, item, url, options.check);
      if (r.kind === "found") return r;
    }
    return undefined;
  }

  /** Authorized narinfos peers hold for `items` (cached ones first); found answers only. */
  async #fromPeers(
    peers: ResolverPeers,
    items: string[],
    dht: boolean,
    options: ItemOptions,
  ): Promise<Map<string, Resolution>> {
    const out = new Map<string, Resolution>();
    const itemOf = new Map<string, string>();
    for (const item of items) {
      const hashPart = this.#hashPart(item, options);
      const entry = await this.#cache.get(P2P_CACHE_URL, hashPart);
      if (entry?.kind === "found") {
        const r = this.#judge(entry, item, P2P_CACHE_URL, options.check);
        if (r.kind === "found") {
          out.set(item, r);
          continue;
        }
      }
      if (!itemOf.has(hashPart)) itemOf.set(hashPart, item);
    }
    const keys = peers.keys();
    if (itemOf.size === 0 || keys.length === 0) return out;
    const check = options.check ?? this.#check;
    const texts = await peers.source.lookup({
      flavour: peers.flavour,
      hashParts: [...itemOf.keys()],
      keys,
      judge: (hashPart, text) => {
        const v = check(text, itemOf.get(hashPart)!, P2P_CACHE_URL);
        if (v.ok) return { ok: true };
        return { ok: false, reason: v.reason, foreign: inOtherStore(text, options.storeDir) };
      },
    }, { dht, signal: options.signal });
    const fetchedAt = this.#now();
    for (const [hashPart, text] of texts) {
      const item = itemOf.get(hashPart);
      if (item === undefined) continue;
      const entry: CacheEntry = { kind: "found", text, fetchedAt, ttl: this.#settings.narinfoTtl };
      await this.#cache.put(P2P_CACHE_URL, hashPart, entry);
      const r = this.#judge(entry, item, P2P_CACHE_URL, options.check);
      if (r.kind === "found") out.set(item, r);
    }
    return out;
  }

  #hashPart(item: string, options: ItemOptions): string {
    return options.byHashPart ? item : parseStorePath(item, options.storeDir!).hashPart;
  }

  /** Every server's authorized narinfo for one path whose NarHash equals `narHash` (NAR download alternatives). */
  async alternatives(
    storePath: string,
    narHash: string,
    urls: readonly string[],
    options: { signal?: AbortSignal | undefined; storeDir: string; check?: NarinfoCheck },
  ): Promise<Resolution[]> {
    const out: Resolution[] = [];
    for (const url of urls) {
      const answer = (await this.#askServer(url, [storePath], options)).get(storePath);
      if (answer?.kind === "found" && answer.narHash === narHash) out.push(answer);
    }
    return out;
  }

  async #askServer(
    url: string,
    paths: readonly string[],
    options: {
      signal?: AbortSignal | undefined;
      storeDir?: string;
      check?: NarinfoCheck;
      byHashPart?: boolean;
    },
  ): Promise<Map<string, Resolution>> {
    const answers = new Map<string, Resolution>();
    let serverDown: string | undefined;
    const ask = async (path: string): Promise<void> => {
      const hashPart = options.byHashPart ? path : parseStorePath(path, options.storeDir!).hashPart;
      let entry = await this.#cache.get(url, hashPart);
      if (!entry) {
        if (serverDown !== undefined) {
          const stale = await this.#cache.getStale(url, hashPart);
          answers.set(
            path,
            stale?.kind === "found"
              ? this.#judge(stale, path, url, options.check)
              : { kind: "missing", storePath: path, reason: serverDown, transient: true },
          );
          return;
        }
        entry = await fetchNarinfo(url, hashPart, this.#settings, this.#now(), options.signal);
        if (entry.kind === "error" && !serverDown) {
          serverDown = entry.message;
          this.#events.onServerError?.(url, entry.message);
        }
        if (entry.kind === "error") {
          // Stale-if-error: an expired answer beats none while the server is unreachable.
          const stale = await this.#cache.getStale(url, hashPart);
          if (stale?.kind === "found") {
            answers.set(path, this.#judge(stale, path, url, options.check));
            return;
          }
        }
        await this.#cache.put(url, hashPart, entry);
      }
      answers.set(path, this.#judge(entry, path, url, options.check));
    };
    // Answers already in memory need no task each (a warm `have` of 1000 paths).
    const rest: string[] = [];
    for (const path of paths) {
      const hashPart = options.byHashPart ? path : parseStorePath(path, options.storeDir!).hashPart;
      const entry = this.#cache.peek(url, hashPart);
      if (entry) answers.set(path, this.#judge(entry, path, url, options.check));
      else rest.push(path);
    }
    for await (const _ of pooledMap(this.#settings.parallelism, rest, ask)) {
      // results are collected in `answers`
    }
    return answers;
  }

  #judge(
    entry: CacheEntry,
    storePath: string,
    cacheUrl: string,
    check: NarinfoCheck = this.#check,
  ): Resolution {
    switch (entry.kind) {
      case "missing":
        return { kind: "missing", storePath, reason: "not found" };
      case "error":
        return { kind: "missing", storePath, reason: entry.message, transient: true };
      case "found": {
        const verdict = check(entry.text, storePath, cacheUrl);
        return verdict.ok
          ? {
            kind: "found",
            storePath,
            text: entry.text,
            cacheUrl,
            narHash: verdict.narHash,
            narSize: verdict.narSize,
            ...(verdict.references ? { references: verdict.references } : {}),
          }
          : { kind: "missing", storePath, reason: verdict.reason };
      }
    }
  }
}

/** How items are named and checked in one resolution. */
interface ItemOptions {
  signal?: AbortSignal | undefined;
  storeDir?: string;
  check?: NarinfoCheck;
  byHashPart?: boolean;
  peers?: boolean;
  /** The reason given when there is no server at all. */
  noUrls: string;
}

/** Whether a narinfo's StorePath lies outside `storeDir` (unknown: false). */
function inOtherStore(text: string, storeDir: string | undefined): boolean {
  if (storeDir === undefined) return false;
  const path = /^StorePath: (\S+)$/m.exec(text)?.[1];
  return path !== undefined && !path.startsWith(`${storeDir.replace(/\/+$/, "")}/`);
}
