/**
 * Checks that a complete block-cache entry still hashes to its NarHash (the
 * daemon does so before it seeds an entry it did not just verify). Small NARs
 * are hashed on the event loop, large ones on a worker thread.
 *
 * @example
 * ```ts
 * if (!(await checkEntry(entry))) await cache.remove(entry.hex);
 * ```
 * @module
 */
import { hexEncode } from "../../encoding/hex.ts";
import { Sha256 } from "../../hash/sha256.ts";
import type { CacheEntry } from "./deno_block_cache.ts";
import { hashFile } from "./deno_hash_file.ts";

/** NARs up to this size are hashed on the event loop (~30 ms); larger ones on a worker thread. */
const WORKER_HASH_BYTES = 64 * 1024 * 1024;

/** Whether a complete cache entry hashes to its NarHash. */
export async function checkEntry(entry: CacheEntry): Promise<boolean> {
  const size = entry.layout.narSize;
  if (size > WORKER_HASH_BYTES) {
    return hexEncode(await hashFile(entry.path, size)) === entry.hex;
  }
  const hash = new Sha256();
  for (let at = 0; at < size; at += 4 << 20) {
    hash.update(await entry.read(at, Math.min(4 << 20, size - at)));
  }
  return hexEncode(hash.digest()) === entry.hex;
}
