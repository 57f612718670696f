/**
 * What this node seeds, as policy: explicit `seed`/`unseed`, `seed_paths`
 * from the configuration, and auto-seeding of what was substituted
 * (`auto_seed`) — always from the store item itself, never a copy.
 *
 * @example
 * ```ts
 * const seeding = new Seeding({ seeds, cache, records, config, emit });
 * await seeding.seedPath("/gnu/store/…-hello-2.12", "explicit");
 * ```
 * @module
 */
import type { AutoSeed } from "../../config/schema.ts";
import { hexEncode } from "../../encoding/hex.ts";
import { formatNarHash, parseNarHash } from "../../hash/nar_hash.ts";
import { storeItemPath } from "../../store/store_item.ts";
import type { BlockCache } from "../store/deno_block_cache.ts";
import type { SeedRegistry } from "../store/deno_seeds.ts";
import type { ProviderRecords } from "./provider.ts";

/** Events of seeding. */
export interface SeedingEvents {
  "seed:added": { narHash: string; storePath: string | undefined; origin: string };
  "seed:removed": { narHash: string };
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
  /** Resolves once a download of this NarHash (hex) in progress has been checked. */
  settled?: (hex: string) => Promise<void>;
  emit: <K extends keyof SeedingEvents>(type: K, payload: SeedingEvents[K]) => void;
}

/** Seeding policy. */
export class Seeding {
  #o: SeedingInit;
  #stopping = new AbortController();

  /** Creates the policy. */
  constructor(init: SeedingInit) {
    this.#o = init;
  }

  /** Aborts indexing in progress. */
  stop(): void {
    this.#stopping.abort(new Error("stopping"));
  }

  /** Seeds `seed_paths`, then announces everything seeded (in the background). */
  startUp(): void {
    void (async () => {
      for (const path of this.#o.seedPaths) {
        if (this.#o.seeds.byStorePath(path)) continue;
        await this.seedPath(path, "config").catch((e) =>
          this.#o.emit("seed:removed", { narHash: `${path}: ${(e as Error).message}` })
        );
      }
      for (const h of this.#o.seeds.seededHashes()) this.#o.records.provide(h);
    })();
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
    this.#o.records.provide(seed.narHash);
    return { narHash: formatNarHash(seed.narHash), storePath: clean, narSize: seed.narSize };
  }

  /** Stops seeding a store path or NarHash; returns the NarHash hex removed, if any. */
  async unseed(target: string): Promise<string | undefined> {
    const hex = await this.#o.seeds.unseed(target);
    if (hex) {
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
    const seed = await this.#o.seeds.seedStorePath(info.storePath, {
      origin: "auto",
      expectedNarHash: digest,
      ...(known ? { known } : {}),
    });
    // Served from the store item from now on: the cached copy is no longer needed.
    if (entry && !entry.pinned && known) await this.#o.cache.remove(hex);
    this.#o.emit("seed:added", {
      narHash: formatNarHash(seed.narHash),
      storePath: info.storePath,
      origin: "auto",
    });
    this.#o.records.provide(digest, { later: true });
  }
}
