/**
 * A bounded LRU cache of encoded blocks keyed by (NarHash, index), so that a
 * flash crowd asking many times for the same block costs one compression:
 * concurrent misses of one block share a single load and compression, and
 * incompressible blocks are remembered as such (a small marker, not a copy).
 *
 * @example
 * ```ts
 * import { CompressedBlockCache } from "./block_cache.ts";
 * const cache = new CompressedBlockCache({ maxBytes: 32 * 1024 * 1024 });
 * const narHash = new Uint8Array(32);
 * const block = new TextEncoder().encode("x".repeat(65536));
 * const first = await cache.encoded(narHash, 0, () => block); // compresses
 * const again = await cache.encoded(narHash, 0, () => block); // cached: same data, no work
 * cache.stats.compressions; // 1
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import { encodeBlock, type EncodeBlockOptions, type EncodedBlock } from "./block_codec.ts";

/** Options of {@linkcode CompressedBlockCache}. */
export interface CompressedBlockCacheOptions extends EncodeBlockOptions {
  /** Bound on the bytes held (data plus a fixed per-entry overhead). Default 64 MiB. */
  maxBytes?: number;
}

/** Counters of a {@linkcode CompressedBlockCache}. */
export interface BlockCacheStats {
  /** Entries held. */
  entries: number;
  /** Bytes charged (data plus per-entry overhead). */
  bytes: number;
  /** Lookups answered from the cache (including joins of a running compression). */
  hits: number;
  /** Lookups that had to load and compress. */
  misses: number;
  /** zstd compressions run. */
  compressions: number;
}

/** Bytes charged per entry on top of its data (key, map slot, object). */
export const ENTRY_OVERHEAD = 128;

type Entry = { data: Uint8Array | undefined };

/**
 * LRU of zstd-compressed blocks, bounded by total bytes.
 *
 * @example
 * ```ts
 * import { CompressedBlockCache } from "./block_cache.ts";
 * const cache = new CompressedBlockCache();
 * cache.drop(new Uint8Array(32)); // 0: nothing cached for that item yet
 * ```
 */
export class CompressedBlockCache {
  #entries = new Map<string, Entry>();
  #pending = new Map<string, Promise<EncodedBlock>>();
  #bytes = 0;
  #maxBytes: number;
  #encodeOptions: EncodeBlockOptions;
  #hits = 0;
  #misses = 0;
  #compressions = 0;

  /** Creates an empty cache. */
  constructor(options: CompressedBlockCacheOptions = {}) {
    const { maxBytes = 64 * 1024 * 1024, ...encodeOptions } = options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new RangeError(
        `CompressedBlockCache: maxBytes ${maxBytes} is not a non-negative integer`,
      );
    }
    this.#maxBytes = maxBytes;
    this.#encodeOptions = encodeOptions;
  }

  /** Current counters. */
  get stats(): BlockCacheStats {
    return {
      entries: this.#entries.size,
      bytes: this.#bytes,
      hits: this.#hits,
      misses: this.#misses,
      compressions: this.#compressions,
    };
  }

  /**
   * Block `index` of item `narHash` as it should be sent. On a miss, `load`
   * reads the raw block; it is compressed once and remembered. When the block
   * is known to be incompressible, `load` is called and the raw block returned
   * without a new compression attempt.
   */
  async encoded(
    narHash: Uint8Array | string,
    index: number,
    load: () => Uint8Array | Promise<Uint8Array>,
  ): Promise<EncodedBlock> {
    const key = keyOf(narHash, index);
    const entry = this.#entries.get(key);
    if (entry) {
      this.#hits++;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      if (entry.data) return { encoding: "zstd", data: entry.data };
      return { encoding: "raw", data: await load() };
    }
    const running = this.#pending.get(key);
    if (running) {
      this.#hits++;
      return running;
    }
    this.#misses++;
    const work = (async () => {
      const raw = await load();
      this.#compressions++;
      const encoded = encodeBlock(raw, this.#encodeOptions);
      this.#store(key, encoded.encoding === "zstd" ? encoded.data : undefined);
      return encoded;
    })();
    this.#pending.set(key, work);
    try {
      return await work;
    } finally {
      this.#pending.delete(key);
    }
  }

  /**
   * Forgets every block of one item, under any key that starts with its hex
   * NarHash (every layout of it). Returns how many were dropped.
   */
  drop(narHash: Uint8Array | string): number {
    const prefix = typeof narHash === "string" ? narHash.toLowerCase() : hexEncode(narHash);
    let dropped = 0;
    for (const [key, entry] of this.#entries) {
      if (!key.startsWith(prefix)) continue;
      this.#entries.delete(key);
      this.#bytes -= cost(entry);
      dropped++;
    }
    return dropped;
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #store(key: string, data: Uint8Array | undefined): void {
    const entry: Entry = { data };
    const size = cost(entry);
    if (size > this.#maxBytes) return;
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= cost(old);
    }
    this.#entries.set(key, entry);
    this.#bytes += size;
    for (const [oldest, e] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= cost(e);
    }
  }
}

function cost(entry: Entry): number {
  return ENTRY_OVERHEAD + (entry.data?.length ?? 0);
}

function keyOf(narHash: Uint8Array | string, index: number): string {
  return `${typeof narHash === "string" ? narHash.toLowerCase() : hexEncode(narHash)}:${index}`;
}
