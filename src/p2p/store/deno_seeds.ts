/**
 * What this node seeds, and how to read it.
 *
 * - **Store seeds**: items in a local store (Guix or Nix). Nothing is copied:
 *   the NAR is re-serialised on demand from the store item through a layout
 *   index; its per-block hashes are computed once (one pass over the NAR,
 *   which also checks the NarHash) and kept in `<cache_dir>/seeds/`.
 * - **Cache seeds**: complete, verified entries of the block cache that are
 *   not in a local store (e.g. NARs fetched for Nix clients).
 * - **Partial**: downloads in progress are served too (their have-bitmap says
 *   which blocks), but they are not listed as seeds.
 *
 * @example
 * ```ts
 * const seeds = new SeedRegistry({ cacheDir, cache, blockSize: 262144 });
 * await seeds.load();
 * const seed = await seeds.seedStorePath("/gnu/store/…-hello-2.12", { origin: "explicit" });
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import { formatNarHash, parseNarHash } from "../../hash/nar_hash.ts";
import { dumpPath } from "../../fs/mod.ts";
import { storeItemPath } from "../../store/store_item.ts";
import type { BlockCache } from "./deno_block_cache.ts";
import { cacheServable, type Servable, StoreServables } from "./_servable.ts";
import { readJsonFile, writeJsonFile } from "../deno_json_file.ts";
import { BlockHasher } from "../wire/manifest.ts";

export type { Servable };

/** Why an item is seeded. */
export type SeedOrigin = "explicit" | "config" | "auto";

/** A seeded store item. */
export interface StoreSeed {
  kind: "store";
  hex: string;
  narHash: Uint8Array;
  narSize: number;
  blockSize: number;
  hashes: Uint8Array;
  storePath: string;
  origin: SeedOrigin;
  addedAt: number;
}

/** A listed seed. */
export interface SeedInfo {
  narHash: string;
  storePath: string | undefined;
  narSize: number;
  kind: "store" | "cache";
  origin: SeedOrigin | "cache";
}

/** Raised when a store item's NAR does not match the NarHash it should have. */
export class SeedMismatchError extends Error {
  /** Creates the error. */
  constructor(storePath: string, expected: string, actual: string) {
    super(`${storePath}: its NAR hashes to ${actual}, not ${expected}; not seeding it`);
    this.name = "SeedMismatchError";
  }
}

/**
 * Checks that `path` is an item of one of `storeDirs` (src/store/store_item.ts)
 * and, without following it, that it is a regular file, a directory or a
 * symlink (a symlink item is published as the symlink, never its target).
 * @throws {StorePathError|Error} naming the path and what is wrong.
 */
export async function checkStoreItem(storeDirs: readonly string[], path: string): Promise<void> {
  storeItemPath(storeDirs, path);
  let st: Deno.FileInfo;
  try {
    st = await Deno.lstat(path);
  } catch (e) {
    throw new Error(`${path}: cannot be seeded: ${(e as Error).message}`);
  }
  if (!st.isFile && !st.isDirectory && !st.isSymlink) {
    throw new Error(`${path}: cannot be seeded: not a regular file, directory or symlink`);
  }
}

/** The registry. */
export class SeedRegistry {
  #dir: string;
  #cache: BlockCache;
  #blockSize: number;
  #seeds = new Map<string, StoreSeed>();
  /** Store path → NarHash hex (a node may seed a whole store: no linear scans). */
  #byPath = new Map<string, string>();
  #servables: StoreServables;
  #storeDirs: readonly string[] | undefined;

  /**
   * Creates the registry (call {@linkcode load}). With `storeDirs`, only
   * items of those stores can be seeded (see {@linkcode checkStoreItem}).
   */
  constructor(
    options: {
      cacheDir: string;
      cache: BlockCache;
      blockSize: number;
      maxLayouts?: number;
      storeDirs?: readonly string[];
    },
  ) {
    this.#storeDirs = options.storeDirs;
    this.#dir = `${options.cacheDir}/seeds`;
    this.#cache = options.cache;
    this.#blockSize = options.blockSize;
    this.#servables = new StoreServables(options.maxLayouts ?? 64);
  }

  /** Loads the persisted store seeds; drops those whose store item is gone. */
  async load(): Promise<void> {
    await Deno.mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const index = await readJsonFile(`${this.#dir}/index.json`) as
      | { v?: number; seeds?: unknown[] }
      | undefined;
    for (const raw of index?.seeds ?? []) {
      const s = raw as Record<string, unknown>;
      if (
        typeof s.hex !== "string" || typeof s.storePath !== "string" ||
        typeof s.narSize !== "number"
      ) continue;
      if (typeof s.blockSize !== "number") continue;
      const hashes = await Deno.readFile(`${this.#dir}/${s.hex}.hashes`).catch(() => undefined);
      if (!hashes || hashes.length !== Math.ceil(s.narSize / s.blockSize) * 32) continue;
      if (!(await exists(s.storePath))) continue;
      if (
        this.#storeDirs &&
        !(await checkStoreItem(this.#storeDirs, s.storePath).then(() => true, () => false))
      ) continue;
      this.#byPath.set(s.storePath, s.hex);
      this.#seeds.set(s.hex, {
        kind: "store",
        hex: s.hex,
        narHash: fromHex(s.hex),
        narSize: s.narSize,
        blockSize: s.blockSize,
        hashes,
        storePath: s.storePath,
        origin: (["explicit", "config", "auto"] as const).find((o) => o === s.origin) ?? "explicit",
        addedAt: typeof s.addedAt === "number" ? s.addedAt : Date.now(),
      });
    }
  }

  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  #saving: Promise<void> | undefined;

  /**
   * Persists the index soon: saves are coalesced over a second, plus a
   * millisecond per seed up to 30 s (auto-seeding a closure adds hundreds of
   * seeds in a few seconds, seeding a store thousands; each save rewrites
   * the whole index, ~150 bytes per seed).
   */
  #saveSoon(): void {
    if (this.#saveTimer !== undefined) return;
    const delay = Math.min(30_000, 1000 + this.#seeds.size);
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.#saving = this.#save().catch(() => {}).finally(() => (this.#saving = undefined));
    }, delay);
  }

  /** Writes pending index changes now. */
  async flush(): Promise<void> {
    if (this.#saveTimer !== undefined) {
      clearTimeout(this.#saveTimer);
      this.#saveTimer = undefined;
      await this.#save();
    }
    await this.#saving;
  }

  async #save(): Promise<void> {
    const seeds = [...this.#seeds.values()].map((s) => ({
      hex: s.hex,
      storePath: s.storePath,
      narSize: s.narSize,
      blockSize: s.blockSize,
      origin: s.origin,
      addedAt: s.addedAt,
    }));
    await writeJsonFile(`${this.#dir}/index.json`, { v: 1, seeds }, 0o600);
  }

  /** Every seed (store seeds and complete verified cache entries). */
  list(): SeedInfo[] {
    const out: SeedInfo[] = [...this.#seeds.values()].map((s) => ({
      narHash: formatNarHash(s.narHash),
      storePath: s.storePath,
      narSize: s.narSize,
      kind: "store" as const,
      origin: s.origin,
    }));
    for (const e of this.#cache.entries()) {
      if (!e.verified || this.#seeds.has(e.hex)) continue;
      out.push({
        narHash: formatNarHash(e.layout.narHash),
        storePath: e.storePath,
        narSize: e.layout.narSize,
        kind: "cache",
        origin: "cache",
      });
    }
    return out;
  }

  /** NarHash digests of every seed (for announcing). */
  seededHashes(): Uint8Array[] {
    const out = [...this.#seeds.values()].map((s) => s.narHash);
    for (const e of this.#cache.entries()) {
      if (e.verified && !this.#seeds.has(e.hex)) out.push(e.layout.narHash);
    }
    return out;
  }

  /** The seed of a store path, if seeded. */
  byStorePath(storePath: string): StoreSeed | undefined {
    const hex = this.#byPath.get(storePath);
    return hex === undefined ? undefined : this.#seeds.get(hex);
  }

  /** Number of store seeds. */
  get storeSeedCount(): number {
    return this.#seeds.size;
  }

  /** Stops seeding store items that are gone (collected); returns their NarHash hex. */
  async prune(): Promise<string[]> {
    const gone: string[] = [];
    for (const s of [...this.#seeds.values()]) {
      if (!(await exists(s.storePath))) gone.push(s.hex);
    }
    for (const hex of gone) await this.unseed(hex);
    return gone;
  }

  /** True when `hex` is seeded (store or verified cache). */
  isSeeded(hex: string): boolean {
    return this.#seeds.has(hex) || this.#cache.get(hex)?.verified === true;
  }

  /**
   * Indexes a store item and seeds it. With `expectedNarHash`, the item's NAR
   * must hash to it (else {@linkcode SeedMismatchError}). `layoutHashes`
   * skips re-hashing when the block hashes are already known and verified
   * (e.g. from the download that just produced the item).
   */
  async seedStorePath(
    storePath: string,
    options: {
      origin: SeedOrigin;
      expectedNarHash?: Uint8Array;
      known?: { narSize: number; blockSize: number; hashes: Uint8Array };
      signal?: AbortSignal;
      /** Called with each chunk's size while the NAR is read (a rate limit waits here). */
      throttle?: (bytes: number) => Promise<void> | void;
    },
  ): Promise<StoreSeed> {
    if (this.#storeDirs) await checkStoreItem(this.#storeDirs, storePath);
    let narHash: Uint8Array, narSize: number, blockSize: number, hashes: Uint8Array;
    if (options.known && options.expectedNarHash) {
      ({ narSize, blockSize, hashes } = options.known);
      narHash = options.expectedNarHash;
    } else {
      const hasher = new BlockHasher(this.#blockSize);
      for await (const chunk of dumpPath(storePath, { signal: options.signal })) {
        hasher.update(chunk);
        await options.throttle?.(chunk.length);
      }
      const m = hasher.finish();
      ({ narHash, narSize, blockSize, hashes } = m);
      if (options.expectedNarHash && hexEncode(options.expectedNarHash) !== hexEncode(narHash)) {
        throw new SeedMismatchError(
          storePath,
          formatNarHash(options.expectedNarHash),
          formatNarHash(narHash),
        );
      }
    }
    const hex = hexEncode(narHash);
    const seed: StoreSeed = {
      kind: "store",
      hex,
      narHash,
      narSize,
      blockSize,
      hashes,
      storePath,
      origin: this.#seeds.get(hex)?.origin === "explicit" ? "explicit" : options.origin,
      addedAt: Date.now(),
    };
    await Deno.writeFile(`${this.#dir}/${hex}.hashes`, hashes, { mode: 0o600 });
    const previous = this.#seeds.get(hex);
    if (previous && previous.storePath !== storePath) this.#byPath.delete(previous.storePath);
    this.#byPath.set(storePath, hex);
    this.#seeds.set(hex, seed);
    this.#saveSoon();
    return seed;
  }

  /** Stops seeding a store path or NarHash (`sha256:…` or hex); returns the NarHash hex removed. */
  async unseed(target: string): Promise<string | undefined> {
    let hex: string | undefined;
    if (/^[0-9a-f]{64}$/.test(target)) hex = target;
    else if (target.startsWith("sha256:")) hex = hexOfNarHash(target);
    else {hex = this.byStorePath(target.replace(/\/+$/, ""))?.hex ??
        this.#cache.entries().find((e) => e.storePath === target)?.hex;}
    if (!hex) return undefined;
    const was = this.#seeds.get(hex);
    if (was) this.#byPath.delete(was.storePath);
    const had = this.#seeds.delete(hex);
    this.#servables.forget(hex);
    await Deno.remove(`${this.#dir}/${hex}.hashes`).catch(() => {});
    if (had) this.#saveSoon();
    const entry = this.#cache.get(hex);
    if (entry && !entry.pinned) await this.#cache.remove(hex);
    return had || entry ? hex : undefined;
  }

  /** What can serve `hex`: a store seed, or a (possibly partial) cache entry. */
  servable(hex: string): Servable | undefined {
    const seed = this.#seeds.get(hex);
    if (seed) return this.#servables.of(seed);
    const entry = this.#cache.get(hex);
    if (entry && entry.haveCount > 0) return cacheServable(entry);
    return undefined;
  }
}

function hexOfNarHash(text: string): string {
  return hexEncode(parseNarHash(text));
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
