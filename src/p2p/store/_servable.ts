/**
 * What serves a NAR's blocks: a store seed (the NAR re-serialised on demand
 * from the store item, through a layout index kept for the most recently
 * served items) or a block-cache entry (possibly a download in progress).
 *
 * @example
 * ```ts
 * const servables = new StoreServables(64);
 * const block = await servables.of(seed).readBlock(0);
 * ```
 * @module
 */
import { narLayoutOfPath, readNarRangeOfPath } from "../../fs/mod.ts";
import type { NarLayout } from "../../nar/mod.ts";
import { Bitfield } from "../wire/bitfield.ts";
import { blockRange, type Manifest } from "../wire/manifest.ts";
import type { CacheEntry } from "./deno_block_cache.ts";
import type { StoreSeed } from "./deno_seeds.ts";

/** Something that can serve blocks of a NAR. */
export interface Servable {
  /**
   * True when this node checked the whole NAR against its NarHash (a store
   * seed, a verified cache entry); false for a download in progress, whose
   * blocks match a manifest this node got from someone else (a relay).
   */
  readonly verified: boolean;
  /** NAR size. */
  readonly narSize: number;
  /** Every block is present. */
  readonly complete: boolean;
  /** The manifest to send (have-bitfield and `verified` flag included). */
  manifest(): Manifest;
  /** Whether block `i` can be served now. */
  has(i: number): boolean;
  /** Reads block `i`. */
  readBlock(i: number): Promise<Uint8Array>;
  /** Reads NAR bytes `[offset, offset + length)` (all present: check `has` first). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Keeps the data from going away while serving; returns the release function. */
  pin(): () => void;
}

/** Servables of store seeds, with an LRU of their NAR layouts. */
export class StoreServables {
  #layouts = new Map<string, Promise<NarLayout>>();
  #max: number;

  /** Keeps the layouts of at most `maxLayouts` items. */
  constructor(maxLayouts: number) {
    this.#max = maxLayouts;
  }

  /** Forgets the layout of `hex` (no longer seeded). */
  forget(hex: string): void {
    this.#layouts.delete(hex);
  }

  #layout(seed: StoreSeed): Promise<NarLayout> {
    let p = this.#layouts.get(seed.hex);
    if (!p) {
      p = narLayoutOfPath(seed.storePath).then((layout) => {
        if (layout.size !== seed.narSize) {
          throw new Error(
            `${seed.storePath} changed: its NAR is now ${layout.size} bytes, not ${seed.narSize}`,
          );
        }
        return layout;
      });
      p.catch(() => this.#layouts.delete(seed.hex));
      this.#layouts.set(seed.hex, p);
      while (this.#layouts.size > this.#max) {
        this.#layouts.delete(this.#layouts.keys().next().value!);
      }
    } else {
      this.#layouts.delete(seed.hex);
      this.#layouts.set(seed.hex, p);
    }
    return p;
  }

  /** Serves a store seed, re-serialising its NAR from the store item on demand. */
  of(seed: StoreSeed): Servable {
    const manifest: Manifest = {
      narHash: seed.narHash,
      narSize: seed.narSize,
      blockSize: seed.blockSize,
      blockCount: seed.hashes.length / 32,
      have: Bitfield.full(seed.hashes.length / 32),
      hashes: seed.hashes,
      verified: true,
    };
    const read = async (offset: number, length: number) =>
      await readNarRangeOfPath(await this.#layout(seed), offset, length);
    return {
      verified: true,
      complete: true,
      narSize: seed.narSize,
      manifest: () => manifest,
      has: (i) => i >= 0 && i < manifest.blockCount,
      readBlock: (i) => {
        const { offset, length } = blockRange(manifest, i);
        return read(offset, length);
      },
      read,
      pin: () => () => {},
    };
  }
}

/** Serves a block-cache entry (its have-bitmap says which blocks). */
export function cacheServable(entry: CacheEntry): Servable {
  return {
    get verified() {
      return entry.verified;
    },
    get complete() {
      return entry.complete;
    },
    narSize: entry.layout.narSize,
    manifest: () => ({
      narHash: entry.layout.narHash,
      narSize: entry.layout.narSize,
      blockSize: entry.layout.blockSize,
      blockCount: entry.blockCount,
      have: Bitfield.fromBytes(entry.haveBits(), entry.blockCount),
      hashes: entry.layout.hashes,
      verified: entry.verified,
    }),
    has: (i) => entry.has(i),
    readBlock: (i) => entry.readBlock(i),
    read: (offset, length) => entry.read(offset, length),
    pin: () => entry.pin(),
  };
}
