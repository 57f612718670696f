/**
 * Sources that read a complete cache entry (a verified NAR in the block
 * cache): as a stream from an offset, or as the file itself for a consumer
 * that reads and verifies it directly. The entry is pinned (kept from
 * eviction) while it is read.
 *
 * @example
 * ```ts
 * const source = cacheSource(entry, "p2p://bafkrei…");
 * const opened = await source.open(0, { signal });
 * ```
 * @module
 */
import type { FileNar, NarSource, OpenedSource } from "../../fetch/source.ts";
import type { CacheEntry } from "../store/deno_block_cache.ts";

/** A source reading a verified cache entry. */
export function cacheSource(entry: CacheEntry, url: string): NarSource {
  return {
    kind: "p2p",
    url,
    size: null,
    open(offset) {
      return Promise.resolve(entryStream(entry, offset));
    },
    openFile() {
      return Promise.resolve(entryFile(entry, 0));
    },
  };
}

/** A complete cache entry as a file (pinned until released). */
export function entryFile(entry: CacheEntry, wireBytes: number): FileNar {
  const unpin = entry.pin();
  const size = entry.layout.narSize;
  return {
    path: entry.path,
    available: () => size,
    grown: () => Promise.resolve(size),
    transferred: () => wireBytes,
    release: unpin,
  };
}

const CHUNK = 4 * 1024 * 1024;

/** The entry's bytes from `offset`, in chunks of up to 4 MiB (pinned while read). */
export function entryStream(entry: CacheEntry, offset: number): OpenedSource {
  const narSize = entry.layout.narSize;
  let pos = offset;
  let unpin: (() => void) | undefined = entry.pin();
  const release = () => {
    unpin?.();
    unpin = undefined;
  };
  return {
    stream: new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (pos >= narSize) {
          release();
          return controller.close();
        }
        const n = Math.min(CHUNK, narSize - pos);
        try {
          controller.enqueue(await entry.read(pos, n));
        } catch (e) {
          release();
          throw e;
        }
        pos += n;
      },
      cancel: release,
    }, { highWaterMark: 0 }),
    transferred: () => 0,
  };
}
