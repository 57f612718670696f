/**
 * The daemon's narinfo cache: positive, negative and error entries with TTLs,
 * kept in memory and persisted through a {@linkcode CacheStore} so a restart
 * (or another helper) starts warm. Entries store the narinfo text, never a
 * verdict: signatures are re-checked against the current ACL on every use.
 *
 * Negative entries ("missing", a 404) live in memory only, in a bounded
 * least-recently-used map: they are short-lived, and anyone who can reach the
 * loopback gateway could otherwise create one file per made-up hash
 * (docs/security.md). Error entries are memory-only too.
 *
 * Persistence is write-behind: {@linkcode NarinfoCache.put} records the entry
 * in memory and returns at once; a background writer stores pending entries
 * (a few at a time, newest value per key) and {@linkcode NarinfoCache.flush}
 * waits for it. Creating a file costs 0.02–1 ms depending on the disk's load,
 * which made a cold `have` of 1000 paths wait up to a second for files nobody
 * reads until the next restart (docs/benchmarks.md, "Substitute path").
 *
 * @example
 * ```ts
 * import { NarinfoCache } from "./narinfo_cache.ts";
 * const cache = new NarinfoCache(memoryCacheStore());
 * await cache.put("https://ci.guix.gnu.org", "1jjb…", { kind: "missing", fetchedAt: 0, ttl: 120 });
 * ```
 * @module
 */
import { nix32Encode } from "../encoding/nix32.ts";
import { sha256 } from "../hash/sha256.ts";

/** A cached answer of one server for one hash part. */
export type CacheEntry =
  | { kind: "found"; text: string; fetchedAt: number; ttl: number }
  | { kind: "missing"; fetchedAt: number; ttl: number }
  | { kind: "error"; message: string; fetchedAt: number; ttl: number };

/** Persistence behind the cache (a directory of small files in production). */
export interface CacheStore {
  /** Reads the value stored under `key`, if any. */
  read(key: string): Promise<string | undefined>;
  /** Atomically stores `value` under `key`. */
  write(key: string, value: string): Promise<void>;
}

/** `nix32(sha256(url))` prefixes of recent server URLs (a batch of 1000 paths hashed its URL 1000 times). */
const urlPrefixes = new Map<string, string>();

/** The storage key of a (server, hash part) pair: `<nix32(sha256(url))>/<hash part>`. */
export function cacheKey(cacheUrl: string, hashPart: string): string {
  let prefix = urlPrefixes.get(cacheUrl);
  if (prefix === undefined) {
    prefix = nix32Encode(sha256(cacheUrl)).slice(0, 32);
    if (urlPrefixes.size >= 256) urlPrefixes.clear();
    urlPrefixes.set(cacheUrl, prefix);
  }
  return `${prefix}/${hashPart}`;
}

/** A store in memory (tests, or when the cache directory is unusable). */
export function memoryCacheStore(): CacheStore {
  const map = new Map<string, string>();
  return {
    read: (key) => Promise.resolve(map.get(key)),
    write: (key, value) => {
      map.set(key, value);
      return Promise.resolve();
    },
  };
}

/** Options of {@linkcode NarinfoCache}. */
export interface NarinfoCacheOptions {
  /** Entries kept in memory (least recently stored first out). Default 50000. */
  maxMemoryEntries?: number;
  /** Negative ("missing") entries kept, in memory only (least recently used first out). Default 10000. */
  maxNegativeEntries?: number;
  /** Store writes in flight at once. Default 8. */
  writeConcurrency?: number;
  /** Seconds since the epoch. */
  now?: () => number;
}

/** Narinfo cache with TTLs. */
export class NarinfoCache {
  #store: CacheStore;
  #memory = new Map<string, CacheEntry>();
  #maxMemory: number;
  /** Negative entries (never persisted), least recently used first. */
  #missing = new Map<string, CacheEntry>();
  #maxMissing: number;
  #now: () => number;
  /** Serialized entries not yet handed to the store, by key. */
  #pending = new Map<string, string>();
  /** Entries being written, by key (a newer value for one of them waits for that write). */
  #inflight = new Map<string, string>();
  #writeConcurrency: number;
  /** Background writers running (each exits as soon as it finds nothing to write). */
  #running = 0;
  #writers = new Set<Promise<void>>();

  /** Creates a cache. */
  constructor(store: CacheStore, options: NarinfoCacheOptions = {}) {
    this.#store = store;
    this.#maxMemory = options.maxMemoryEntries ?? 50_000;
    this.#maxMissing = options.maxNegativeEntries ?? 10_000;
    this.#writeConcurrency = Math.max(1, options.writeConcurrency ?? 8);
    this.#now = options.now ?? (() => Date.now() / 1000);
  }

  /** Entries recorded but not yet written to the store. */
  get pendingWrites(): number {
    return this.#pending.size;
  }

  /**
   * A live entry already in memory (or waiting to be written), without
   * touching the store; undefined means "ask {@linkcode get}".
   */
  peek(cacheUrl: string, hashPart: string): CacheEntry | undefined {
    const key = cacheKey(cacheUrl, hashPart);
    let entry = this.#missing.get(key) ?? this.#memory.get(key);
    if (!entry) {
      const text = this.#unwritten(key);
      entry = text === undefined ? undefined : decode(text);
    }
    if (!entry || entry.fetchedAt + entry.ttl <= this.#now()) return undefined;
    return entry;
  }

  /** A live (unexpired) entry, or undefined. */
  async get(cacheUrl: string, hashPart: string): Promise<CacheEntry | undefined> {
    const key = cacheKey(cacheUrl, hashPart);
    const missing = this.#missing.get(key);
    if (missing) {
      this.#missing.delete(key);
      if (missing.fetchedAt + missing.ttl <= this.#now()) return undefined;
      this.#missing.set(key, missing);
      return missing;
    }
    let entry = this.#memory.get(key);
    if (!entry) {
      const text = this.#unwritten(key) ?? await this.#store.read(key).catch(() => undefined);
      entry = text === undefined ? undefined : decode(text);
      if (entry && entry.kind !== "error") this.#remember(key, entry);
    }
    if (!entry) return undefined;
    if (entry.fetchedAt + entry.ttl <= this.#now()) {
      this.#memory.delete(key);
      return undefined;
    }
    return entry;
  }

  /** The last answer recorded, even if expired (for stale-if-error), or undefined. */
  async getStale(cacheUrl: string, hashPart: string): Promise<CacheEntry | undefined> {
    const key = cacheKey(cacheUrl, hashPart);
    const mem = this.#memory.get(key);
    if (mem && mem.kind === "found") return mem;
    const text = this.#unwritten(key) ?? await this.#store.read(key).catch(() => undefined);
    return text === undefined ? undefined : decode(text);
  }

  /**
   * Records an answer; resolves at once (the store write happens in the
   * background, see {@linkcode flush}). Missing and error entries stay in
   * memory only.
   */
  put(cacheUrl: string, hashPart: string, entry: CacheEntry): Promise<void> {
    const key = cacheKey(cacheUrl, hashPart);
    if (entry.kind === "missing") {
      this.#memory.delete(key);
      this.#pending.delete(key);
      this.#missing.delete(key);
      if (this.#maxMissing > 0) this.#missing.set(key, entry);
      if (this.#missing.size > this.#maxMissing) {
        const oldest = this.#missing.keys().next().value;
        if (oldest !== undefined) this.#missing.delete(oldest);
      }
      return Promise.resolve();
    }
    this.#missing.delete(key);
    this.#remember(key, entry);
    if (entry.kind !== "error") {
      this.#pending.delete(key); // keep write order = put order
      this.#pending.set(key, JSON.stringify({ v: 1, ...entry }));
      if (this.#running < this.#writeConcurrency) {
        this.#running++;
        const writer = this.#writeLoop();
        this.#writers.add(writer);
        writer.finally(() => this.#writers.delete(writer));
      }
    }
    return Promise.resolve();
  }

  /** Resolves once every entry recorded so far was handed to the store (failed writes are dropped). */
  async flush(): Promise<void> {
    while (this.#running > 0) await Promise.all(this.#writers);
  }

  /** The newest serialized value of `key` not yet on the store, if any. */
  #unwritten(key: string): string | undefined {
    return this.#pending.get(key) ?? this.#inflight.get(key);
  }

  /**
   * Writes pending entries until none is left that is not already being
   * written. It finds nothing and stops counting itself in the same turn, so
   * an entry put at any moment is seen by a running writer or starts one.
   */
  async #writeLoop(): Promise<void> {
    for (;;) {
      let next: [string, string] | undefined;
      for (const item of this.#pending) {
        if (!this.#inflight.has(item[0])) {
          next = item;
          break;
        }
      }
      if (!next) {
        this.#running--;
        return;
      }
      const [key, value] = next;
      this.#pending.delete(key);
      this.#inflight.set(key, value);
      try {
        await this.#store.write(key, value);
      } catch {
        // A cache that cannot be written is only a slower cache.
      } finally {
        this.#inflight.delete(key);
      }
    }
  }

  #remember(key: string, entry: CacheEntry): void {
    this.#memory.delete(key);
    this.#memory.set(key, entry);
    if (this.#memory.size > this.#maxMemory) {
      const oldest = this.#memory.keys().next().value;
      if (oldest !== undefined) this.#memory.delete(oldest);
    }
  }
}

function decode(text: string): CacheEntry | undefined {
  try {
    const o = JSON.parse(text);
    if (o?.v !== 1 || typeof o.fetchedAt !== "number" || typeof o.ttl !== "number") {
      return undefined;
    }
    if (o.kind === "found" && typeof o.text === "string") {
      return { kind: "found", text: o.text, fetchedAt: o.fetchedAt, ttl: o.ttl };
    }
    if (o.kind === "missing") return { kind: "missing", fetchedAt: o.fetchedAt, ttl: o.ttl };
    return undefined;
  } catch {
    return undefined; // a corrupt cache file is just a miss
  }
}
