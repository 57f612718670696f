/**
 * Worker thread of the Deno restore target: creates the small files queued in
 * a {@linkcode FileRing} exactly as the main thread would (create-new, 0444 or
 * 0555, times = 1 s, never following a symlink). It stops on request, or at the
 * first failure, which it reports in the ring's error area.
 *
 * Started by `deno_restore_target.ts` with `{ control, data, chmod }` as its first message.
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL("./_restore_worker.ts", import.meta.url), { type: "module" });
 * ```
 * @module
 */
/// <reference lib="deno.worker" />
import { lutimesSync } from "node:fs";
import {
  CONSUMED,
  ERROR_AT,
  ERROR_BYTES,
  ERROR_LENGTH_AT,
  HEADER,
  PRODUCED,
  READY,
  STATE,
  STOP,
} from "./_file_ring.ts";

interface Start {
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
  /** chmod after creating (the umask would hide mode bits). */
  chmod: boolean;
}

self.onmessage = (event: MessageEvent<Start>) => {
  const { control, data, chmod } = event.data;
  const ctl = new BigInt64Array(control, 0, 5);
  const bytes = new Uint8Array(data);
  const view = new DataView(data);
  const cap = bytes.length;
  const decoder = new TextDecoder();
  let consumed = Number(Atomics.load(ctl, CONSUMED));
  let state = 2n;
  Atomics.store(ctl, READY, 1n);
  Atomics.notify(ctl, READY);
  try {
    for (;;) {
      const stop = Atomics.load(ctl, STOP);
      if (stop === 2n) break;
      const produced = Number(Atomics.load(ctl, PRODUCED));
      if (consumed === produced) {
        if (stop === 1n) break;
        Atomics.wait(ctl, PRODUCED, BigInt(produced), 200);
        continue;
      }
      let at = consumed % cap;
      if (cap - at < HEADER) {
        consumed += cap - at;
        continue;
      }
      const len = view.getUint32(at, true);
      if (bytes[at + 13] === 0) {
        consumed += len;
        continue;
      }
      const pathLen = view.getUint32(at + 4, true);
      const dataLen = view.getUint32(at + 8, true);
      const mode = bytes[at + 12] === 1 ? 0o555 : 0o444;
      at += HEADER;
      const path = decoder.decode(bytes.slice(at, at + pathLen));
      // writeFile needs an unshared buffer.
      const contents = bytes.slice(at + pathLen, at + pathLen + dataLen);
      try {
        Deno.writeFileSync(path, contents, { createNew: true, mode });
        lutimesSync(path, 1, 1);
        if (chmod) Deno.chmodSync(path, mode);
      } catch (e) {
        // "detail NUL path", turned into a NarRestoreError by the main thread.
        const message = `cannot create the file: ${
          e instanceof Error ? e.message : String(e)
        }\0${path}`;
        const encoded = new TextEncoder().encode(message).subarray(0, ERROR_BYTES);
        new DataView(control).setUint32(ERROR_LENGTH_AT, encoded.length, true);
        new Uint8Array(control, ERROR_AT, encoded.length).set(encoded);
        state = 1n;
        break;
      }
      consumed += len;
      Atomics.store(ctl, CONSUMED, BigInt(consumed));
    }
  } finally {
    Atomics.store(ctl, STATE, state);
    Atomics.notify(ctl, STATE);
  }
};
