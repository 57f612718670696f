/**
 * SHA-256 of the first `length` bytes of a file, computed on a worker thread
 * (one per call), so checking a finished download against its NarHash does
 * not stall the daemon's network and control loops.
 *
 * @example
 * ```ts
 * import { hashFile } from "./deno_hash_file.ts";
 * const digest = await hashFile("/var/cache/guix-p2p/blocks/ab….nar", 1 << 30);
 * ```
 * @module
 */

/** Hashes `[0, length)` of `path` on a worker thread. */
export function hashFile(path: string, length: number): Promise<Uint8Array> {
  const worker = new Worker(new URL("./_hash_file_worker.ts", import.meta.url), {
    type: "module",
  });
  return new Promise<Uint8Array>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ digest?: Uint8Array; error?: string }>) => {
      if (e.data.digest) resolve(e.data.digest);
      else reject(new Error(e.data.error ?? "hash worker failed"));
    };
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`hash worker: ${e.message}`));
    };
    worker.postMessage({ path, length });
  }).finally(() => worker.terminate());
}
