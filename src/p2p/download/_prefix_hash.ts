/**
 * The whole-NAR SHA-256 of a swarm download, computed while its blocks are
 * written: each block that extends the written prefix from byte 0 is hashed
 * from the bytes in hand; blocks written ahead of the prefix are read back
 * from the cache once the prefix reaches them (blocks already present when a
 * download resumes, too). When the download ends the digest is ready, so the
 * NarHash check neither reads the NAR back nor holds the event loop for it.
 *
 * @example
 * ```ts
 * const hash = new PrefixHash(entry);
 * hash.written(0, firstBlock); // after the block is on disk
 * const digest = await hash.digest(); // once every block is written
 * ```
 * @module
 */
import { Sha256 } from "../../hash/sha256.ts";
import type { CacheEntry } from "../store/deno_block_cache.ts";

/** Incremental whole-NAR hash of a cache entry being filled. */
export class PrefixHash {
  #entry: CacheEntry;
  #hash = new Sha256();
  #next = 0;
  #reading: Promise<void> = Promise.resolve();
  #failure: Error | undefined;

  /** Starts at byte 0 of `entry` (what it already has is read back). */
  constructor(entry: CacheEntry) {
    this.#entry = entry;
    this.#catchUp();
  }

  /** Block `index`, just written, holds `bytes`. */
  written(index: number, bytes: Uint8Array): void {
    if (index !== this.#next || this.#failure) return; // read back when the prefix reaches it
    // Behind a read-back in progress: that read-back hashes it, from the cache.
    if (this.#busy) return;
    this.#hash.update(bytes);
    this.#next++;
    this.#catchUp();
  }

  #busy = false;

  /** Hashes (reading back) the present blocks that follow the prefix. */
  #catchUp(): void {
    if (this.#busy || !this.#entry.has(this.#next)) return;
    this.#busy = true;
    this.#reading = (async () => {
      try {
        while (this.#entry.has(this.#next)) {
          this.#hash.update(await this.#entry.readBlock(this.#next));
          this.#next++;
        }
      } catch (e) {
        this.#failure = e as Error;
      } finally {
        this.#busy = false;
      }
    })();
  }

  #digest: Promise<Uint8Array | undefined> | undefined;

  /**
   * The NAR's SHA-256, once every block is written and hashed (call when the
   * download is complete); undefined if a read-back failed or blocks are missing.
   */
  digest(): Promise<Uint8Array | undefined> {
    return this.#digest ??= this.#finish();
  }

  async #finish(): Promise<Uint8Array | undefined> {
    await this.#reading;
    this.#catchUp(); // blocks written during the last read-back
    await this.#reading;
    if (this.#failure || this.#next !== this.#entry.blockCount) return undefined;
    return this.#hash.digest();
  }
}
