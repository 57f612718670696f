/**
 * What readers of a download see: its verified blocks as they arrive. The
 * contiguous prefix from byte 0 (for a consumer reading the file itself),
 * a stream from an offset that waits for each next block (for one that takes
 * the bytes), and the download's end or failure. The download calls
 * {@linkcode BlockProgress.changed} after each block and
 * {@linkcode BlockProgress.end} once.
 *
 * @example
 * ```ts
 * const progress = new BlockProgress(entry, manifest);
 * const stream = progress.stream(0, 4 << 20);
 * progress.changed(); // after a block was written
 * ```
 * @module
 */
import { abortable } from "../../std/async.ts";
import type { CacheEntry } from "../store/deno_block_cache.ts";
import type { Manifest } from "../wire/mod.ts";

/** Readers' view of one download. */
export class BlockProgress {
  #entry: CacheEntry;
  #manifest: Manifest;
  #changed: PromiseWithResolvers<void> = Promise.withResolvers();
  #failure: Error | undefined;
  #ended = false;
  #prefixBlocks = 0;

  /** Watches `entry` filled under `manifest`. */
  constructor(entry: CacheEntry, manifest: Manifest) {
    this.#entry = entry;
    this.#manifest = manifest;
  }

  /** Wakes readers: a block was written. */
  changed(): void {
    const old = this.#changed;
    this.#changed = Promise.withResolvers();
    old.resolve();
  }

  /** The download ended (with `failure`, if it failed). */
  end(failure?: Error): void {
    this.#ended = true;
    this.#failure = failure;
    this.changed();
  }

  /** NAR bytes of the contiguous prefix present from byte 0. */
  prefixLength(): number {
    const { blockCount, blockSize, narSize } = this.#manifest;
    while (this.#prefixBlocks < blockCount && this.#entry.has(this.#prefixBlocks)) {
      this.#prefixBlocks++;
    }
    return Math.min(this.#prefixBlocks * blockSize, narSize);
  }

  /** Resolves with the prefix length once it exceeds `bytes` (or is whole); rejects on failure. */
  async grown(bytes: number, signal?: AbortSignal): Promise<number> {
    for (;;) {
      signal?.throwIfAborted();
      const n = this.prefixLength();
      if (n > bytes || n === this.#manifest.narSize) return n;
      if (this.#failure) throw this.#failure;
      if (this.#ended) throw new Error(`block missing after the download ended (byte ${n})`);
      await abortable(this.#changed.promise, signal);
    }
  }

  /** The NAR from byte `offset`, in reads of up to `chunk` bytes of contiguous present blocks. */
  stream(offset: number, chunk: number): ReadableStream<Uint8Array> {
    const { blockSize, narSize, blockCount } = this.#manifest;
    const entry = this.#entry;
    let pos = offset;
    const unpin = entry.pin();
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (pos >= narSize) {
          unpin();
          return controller.close();
        }
        const index = Math.floor(pos / blockSize);
        while (!entry.has(index)) {
          if (this.#failure || this.#ended) {
            unpin();
            throw this.#failure ?? new Error(`block ${index} missing after the download ended`);
          }
          await this.#changed.promise;
        }
        // Every contiguous block already present, up to `chunk` bytes, in one read.
        let end = index + 1;
        while (end < blockCount && (end - index + 1) * blockSize <= chunk && entry.has(end)) end++;
        const stop = Math.min(end * blockSize, narSize);
        controller.enqueue(await entry.read(pos, stop - pos));
        pos = stop;
      },
      cancel: unpin,
    }, { highWaterMark: 0 });
  }
}
