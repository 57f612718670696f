/**
 * What this node seeds, as policy: explicit `seed`/`unseed`, `seed_paths`
 * from the configuration, whole closures, profiles and stores (`seed
 * --closure|--profile|--store`, `seed_profiles`, re-scanned when a profile
 * changes), and auto-seeding of what was substituted (`auto_seed`) — always
 * from the store item itself, never a copy. Reading store items to index
 * them goes through one rate-limited queue ({@linkcode SeedJobs}).
 *
 * @example
 * ```ts
 * const seeding = new Seeding({ seeds, cache, records, config, emit });
 * await seeding.seedPath("/gnu/store/…-hello-2.12", "explicit");
 * seeding.seedClosure(["/gnu/store/…-profile"], "explicit"); // a job
 * ```
 * @module
 */
import type { AutoSeed } from "../../config/schema.ts";
import { hexEncode } from "../../encoding/hex.ts";
import { formatNarHash, parseNarHash } from "../../hash/nar_hash.ts";
import { storeItemPath } from "../../store/store_item.ts";
import type { BlockCache } from "../store/deno_block_cache.ts";
import type { SeedOrigin, SeedRegistry } from "../store/deno_seeds.ts";
import type { StoreCatalog } from "../store/catalog.ts";
import type { ProviderRecords } from "./provider.ts";
import { TokenBucket } from "../rate/token_bucket.ts";
import { Fifo, type SeedJob, SeedJobs } from "./seed_jobs.ts";

export type { SeedJob } from "./seed_jobs.ts";

/** Events of seeding. */
export interface SeedingEvents {
  "seed:added": { narHash: string; storePath: string | undefined; origin: string };
  "seed:removed": { narHash: string };
  "seed:job": {
    id: number;
    what: string;
    state: string;
    total: number | null;
    seeded: number;
    already: number;
    failed: number;
    bytes: number;
    errors: string[];
  };
  /** A profile of `seed_profiles` points to a new generation (or was read the first time). */
  "seed:profile": { profile: string; item: string; previous: string | null };
}

/** The store side of seeding many items: catalogs and profile resolution (`deno_catalog.ts`). */
export interface SeedStores {
  /** The catalog of the store holding `item` (one of `storeDirs`). */
  catalog(storeDir: string): Promise<StoreCatalog>;
  /** The store item a profile (a chain of symlinks) currently points to. */
  resolveProfile(profile: string): Promise<string>;
}

/** Options of {@linkcode Seeding}. */
export interface SeedingInit {
  seeds: SeedRegistry;
  cache: BlockCache;
  records: ProviderRecords;
  /** Store directories whose items may be seeded. */
  storeDirs: string[];
  autoSeed: AutoSeed;
  seedPaths: string[];
  /** Profiles whose closures are seeded and followed (`seed_profiles`). */
  seedProfiles?: string[];
  /** How often `seedProfiles` are checked for a new generation (default 10 s). */
  profilePollMs?: number;
  /** Store catalogs for closures, profiles and whole stores. */
  stores?: SeedStores;
  /** Bytes per second read while indexing (`seed_index_rate`; 0: unlimited). */
  indexRate?: number;
  /**
   * Provider announcements per second (default 25, after a burst of 100).
   * Each one sends ADD_PROVIDER to the ~20 peers closest to the key; on a
   * small network those are the same peers every time, and they refuse more
   * than `dht_provider_rate` (50/s by default) from one peer: seeding a
   * profile or a store must not look like a flood.
   */
  provideRate?: number;
  /** Called with the hex NarHash of what is no longer seeded (its compressed blocks go). */
  onUnseed?: (hex: string) => void;
  /** Resolves once a download of this NarHash (hex) in progress has been checked. */
  settled?: (hex: string) => Promise<void>;
  emit: <K extends keyof SeedingEvents>(type: K, payload: SeedingEvents[K]) => void;
}

/** Seeding policy. */
export class Seeding {
  #o: SeedingInit;
  #stopping = new AbortController();
  #jobs: SeedJobs;
  #profiles = new Map<string, string | null>();
  #profileTimer: ReturnType<typeof setInterval> | undefined;
  #polling = false;
  #announce: {
    queue: Fifo<Uint8Array>;
    queued: Set<string>;
    bucket: TokenBucket;
    timer: ReturnType<typeof setTimeout> | undefined;
  };

  /** Creates the policy. */
  constructor(init: SeedingInit) {
    this.#o = init;
    this.#jobs = new SeedJobs({
      rate: init.indexRate ?? 0,
      index: (path, origin, throttle, signal) => this.#index(path, origin, throttle, signal),
      onEnd: (job) => this.#o.emit("seed:job", jobEvent(job)),
    });
    this.#announce = {
      queue: new Fifo(),
      queued: new Set(),
      bucket: new TokenBucket({ bytesPerSecond: init.provideRate ?? 25, burst: 100 }),
      timer: undefined,
    };
  }

  /** Items whose provider record waits for its turn (paced, see `provideRate`). */
  get pendingAnnouncements(): number {
    return this.#announce.queue.length;
  }

  /** Announces `narHash` as soon as the pace allows (duplicates waiting are dropped). */
  #provide(narHash: Uint8Array): void {
    const a = this.#announce;
    const hex = hexEncode(narHash);
    if (a.queued.has(hex) || this.#stopping.signal.aborted) return;
    a.queued.add(hex);
    a.queue.push(narHash);
    this.#pumpAnnouncements();
  }

  #pumpAnnouncements(): void {
    const a = this.#announce;
    if (a.timer !== undefined) return;
    // Paced, and no more than a few waiting in ProviderRecords (each waits
    // there within its time limit: a long queue there would time out).
    while (a.queue.length > 0 && this.#o.records.pending < 16 && a.bucket.tryTake(1)) {
      const h = a.queue.shift()!;
      a.queued.delete(hexEncode(h));
      this.#o.records.provide(h);
    }
    if (a.queue.length > 0 && !this.#stopping.signal.aborted) {
      const wait = this.#o.records.pending >= 16 ? 100 : Math.ceil(a.bucket.msUntil(1));
      a.timer = setTimeout(() => {
        a.timer = undefined;
        this.#pumpAnnouncements();
      }, Math.max(1, wait));
    }
  }

  /** Aborts indexing in progress. */
  stop(): void {
    this.#stopping.abort(new Error("stopping"));
    this.#jobs.stop();
    clearInterval(this.#profileTimer);
    clearTimeout(this.#announce.timer);
    this.#announce.queue.clear();
    this.#announce.queued.clear();
  }

  /** Seeds `seed_paths` and `seed_profiles`, then announces everything seeded (in the background). */
  startUp(): void {
    void (async () => {
      for (const path of this.#o.seedPaths) {
        if (this.#o.seeds.byStorePath(path)) continue;
        await this.seedPath(path, "config").catch((e) =>
          this.#o.emit("seed:removed", { narHash: `${path}: ${(e as Error).message}` })
        );
      }
      for (const h of this.#o.seeds.seededHashes()) this.#provide(h);
      const profiles = this.#o.seedProfiles ?? [];
      if (profiles.length > 0 && this.#o.stores) {
        for (const p of profiles) this.#profiles.set(p, null);
        await this.#pollProfiles();
        this.#profileTimer = setInterval(
          () => void this.#pollProfiles(),
          this.#o.profilePollMs ?? 10_000,
        );
      }
    })();
  }

  /** Jobs in progress and the last ones that ended, newest first. */
  jobs(): SeedJob[] {
    return this.#jobs.list();
  }

  /** Items waiting to be indexed. */
  get pendingItems(): number {
    return this.#jobs.pending;
  }

  /** Seeds `items` and everything they refer to (a job; see {@linkcode jobs}). */
  seedClosure(items: string[], origin: SeedOrigin, what?: string): SeedJob {
    const stores = this.#requireStores();
    const dir = this.#storeDirOf(items[0] ?? "");
    for (const item of items) {
      if (this.#storeDirOf(item) !== dir) {
        throw new Error(`${item} is not an item of ${dir} (one store per closure)`);
      }
    }
    return this.#jobs.submit(
      what ?? `closure of ${items.join(" ")}`,
      async () => {
        const catalog = await stores.catalog(dir);
        return { items: await catalog.closure(items), rule: catalog.rule };
      },
      origin,
    );
  }

  /** Seeds every valid item of the store (a job). */
  seedStore(origin: SeedOrigin = "explicit"): SeedJob {
    const stores = this.#requireStores();
    const dir = this.#o.storeDirs[0]!;
    return this.#jobs.submit(
      `the store ${dir}`,
      async () => {
        const catalog = await stores.catalog(dir);
        return { items: await catalog.valid(), rule: catalog.rule };
      },
      origin,
    );
  }

  #requireStores(): SeedStores {
    if (!this.#o.stores) throw new Error("seeding closures needs the store catalogs");
    return this.#o.stores;
  }

  #storeDirOf(path: string): string {
    const clean = path.replace(/\/+$/, "");
    const dir = this.#o.storeDirs.find((d) =>
      clean.startsWith(d + "/") && !clean.slice(d.length + 1).includes("/")
    );
    if (!dir) throw new Error(`${path} is not an item of ${this.#o.storeDirs.join(" or ")}`);
    return dir;
  }

  /** Checks `seed_profiles`; seeds the closure of each profile that points somewhere new. */
  async #pollProfiles(): Promise<void> {
    if (this.#polling || this.#stopping.signal.aborted) return;
    this.#polling = true;
    try {
      for (const [profile, previous] of this.#profiles) {
        let item: string;
        try {
          item = await this.#o.stores!.resolveProfile(profile);
          this.#storeDirOf(item);
        } catch (e) {
          if (previous !== "") {
            this.#o.emit("seed:job", {
              ...jobEvent(undefined),
              what: `profile ${profile}`,
              state: "failed",
              errors: [(e as Error).message],
            });
          }
          this.#profiles.set(profile, ""); // report once until it resolves again
          continue;
        }
        if (item === previous) continue;
        this.#profiles.set(profile, item);
        this.#o.emit("seed:profile", { profile, item, previous: previous || null });
        this.seedClosure([item], "config", `profile ${profile} (${item})`);
        // A new generation: items of old ones may have been collected since.
        if (previous) {
          for (const hex of await this.#o.seeds.prune()) {
            await this.#o.records.unprovide(fromHex(hex));
            this.#o.emit("seed:removed", { narHash: hex });
          }
        }
      }
    } finally {
      this.#polling = false;
    }
  }

  /** Indexes one item for a job (skipping what is already seeded). */
  async #index(
    path: string,
    origin: SeedOrigin,
    throttle: (bytes: number) => Promise<void>,
    signal: AbortSignal,
  ): Promise<{ kind: "seeded"; narSize: number } | { kind: "already" }> {
    if (this.#o.seeds.byStorePath(path)) return { kind: "already" };
    const seed = await this.#o.seeds.seedStorePath(path, { origin, signal, throttle });
    this.#o.emit("seed:added", { narHash: formatNarHash(seed.narHash), storePath: path, origin });
    this.#provide(seed.narHash);
    return { kind: "seeded", narSize: seed.narSize };
  }

  /** Seeds a store path (explicit or from the configuration). */
  async seedPath(
    path: string,
    origin: "explicit" | "config",
  ): Promise<{ narHash: string; storePath: string; narSize: number }> {
    const clean = storeItemPath(this.#o.storeDirs, path).path;
    const seed = await this.#o.seeds.seedStorePath(clean, {
      origin,
      signal: this.#stopping.signal,
    });
    this.#o.emit("seed:added", { narHash: formatNarHash(seed.narHash), storePath: clean, origin });
    this.#provide(seed.narHash);
    return { narHash: formatNarHash(seed.narHash), storePath: clean, narSize: seed.narSize };
  }

  /** Stops seeding a store path or NarHash; returns the NarHash hex removed, if any. */
  async unseed(target: string): Promise<string | undefined> {
    const hex = await this.#o.seeds.unseed(target);
    if (hex) {
      this.#o.onUnseed?.(hex);
      await this.#o.records.unprovide(
        new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16))),
      );
      this.#o.emit("seed:removed", { narHash: hex });
    }
    return hex;
  }

  /** A substitution finished: seed it per `auto_seed`, from the store item itself. */
  async substituted(info: { storePath: string; narHash: string; source: string }): Promise<void> {
    const mode = this.#o.autoSeed;
    if (mode === "off" || (mode === "p2p" && info.source !== "p2p")) return;
    const digest = parseNarHash(info.narHash);
    const hex = hexEncode(digest);
    // A download just checked by the P2P layer gives its block hashes: no second pass.
    await this.#o.settled?.(hex);
    const entry = this.#o.cache.get(hex);
    const known = entry?.verified
      ? {
        narSize: entry.layout.narSize,
        blockSize: entry.layout.blockSize,
        hashes: entry.layout.hashes,
      }
      : undefined;
    // Unknown block hashes (an HTTP substitution): read the item once, in the indexing queue.
    const seed = known
      ? await this.#o.seeds.seedStorePath(info.storePath, {
        origin: "auto",
        expectedNarHash: digest,
        known,
      })
      : await (async () => {
        let indexed;
        await this.#jobs.urgent(info.storePath, async (throttle, signal) => {
          indexed = await this.#o.seeds.seedStorePath(info.storePath, {
            origin: "auto",
            expectedNarHash: digest,
            throttle,
            signal,
          });
          return { kind: "seeded", narSize: indexed.narSize };
        });
        return indexed!;
      })();
    // Served from the store item from now on: the cached copy is no longer needed.
    if (entry && !entry.pinned && known) await this.#o.cache.remove(hex);
    this.#o.emit("seed:added", {
      narHash: formatNarHash(seed.narHash),
      storePath: info.storePath,
      origin: "auto",
    });
    // After the closure's substitutions (ProviderRecords' quiet period).
    this.#o.records.provide(digest, { later: true });
  }
}

function jobEvent(job: SeedJob | undefined): SeedingEvents["seed:job"] {
  return {
    id: job?.id ?? 0,
    what: job?.what ?? "",
    state: job?.state ?? "failed",
    total: job?.total ?? null,
    seeded: job?.seeded ?? 0,
    already: job?.already ?? 0,
    failed: job?.failed ?? 0,
    bytes: job?.bytes ?? 0,
    errors: job?.errors ?? [],
  };
}

function fromHex(hex: string): Uint8Array {
  return new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}
