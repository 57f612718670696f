/**
 * Worker thread of `hashPath`: hashes the NAR chunks it is sent (each one
 * transferred, then transferred back for reuse) and answers `"end"` with the
 * digest. It posts `"ready"` once loaded.
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL("./_hash_worker.ts", import.meta.url), { type: "module" });
 * worker.postMessage(new Uint8Array(8));
 * worker.postMessage("end");
 * ```
 * @module
 */
/// <reference lib="deno.worker" />
import { Sha256 } from "../hash/sha256.ts";

const hash = new Sha256();
// Tells the main thread that this module loaded: only then does it hand chunks over.
self.postMessage("ready");
self.onmessage = (event: MessageEvent<Uint8Array | "end">) => {
  const message = event.data;
  if (message === "end") {
    self.postMessage({ digest: hash.digest(), size: hash.byteLength });
    return;
  }
  hash.update(message);
  self.postMessage(message, [message.buffer as ArrayBuffer]);
};
