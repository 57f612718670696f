/**
 * Worker thread of `hashFile`: reads `[0, length)` of a file and answers with
 * its SHA-256, so a finished download is checked against its NarHash off the
 * daemon's event loop.
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL("./_hash_file_worker.ts", import.meta.url), { type: "module" });
 * worker.postMessage({ path: "/var/cache/guix-p2p/blocks/….nar", length: 1024 });
 * ```
 * @module
 */
/// <reference lib="deno.worker" />
import { Sha256 } from "../../hash/sha256.ts";

self.onmessage = (event: MessageEvent<{ path: string; length: number }>) => {
  const { path, length } = event.data;
  try {
    const file = Deno.openSync(path, { read: true });
    try {
      const hash = new Sha256();
      const buf = new Uint8Array(4 << 20);
      let done = 0;
      while (done < length) {
        const n = file.readSync(buf.subarray(0, Math.min(buf.length, length - done)));
        if (n === null) throw new Error(`${path}: ends at byte ${done} of ${length}`);
        hash.update(buf.subarray(0, n));
        done += n;
      }
      self.postMessage({ digest: hash.digest() });
    } finally {
      file.close();
    }
  } catch (e) {
    self.postMessage({ error: (e as Error).message });
  }
};
