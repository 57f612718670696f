/**
 * gzip and zstd through `node:zlib` (native code, built into Deno), as a
 * {@linkcode DecodeEngine}.
 *
 * Two Deno 2.9.6 defects are handled here:
 * - the zstd decoder reports corrupt data by throwing from inside a
 *   `process.nextTick` callback, which is an uncaught exception that ends the
 *   process: {@linkcode guardNativeWrite} routes it to the stream's normal
 *   error path;
 * - the zstd decoder accepts truncated input, trailing garbage and empty input
 *   silently, and drops whatever follows the end of a frame within the same
 *   write: a {@linkcode ZstdFrameChecker} walks the framing alongside and
 *   splits the input at frame boundaries.
 *
 * The Node stream is used in paused mode: output is read only when our
 * readable side is pulled, and zlib stops inflating once its 64 KiB readable
 * buffer is full, so a zip bomb inflates no faster than the consumer reads.
 *
 * @example
 * ```ts
 * import { nodeZlibEngine } from "./_node_zlib.ts";
 * import { engineStream } from "./_engine_stream.ts";
 * const gunzip = engineStream(nodeZlibEngine("gzip"), { format: "gzip" });
 * ```
 * @module
 */
import zlib from "node:zlib";
import { Changes } from "./_changes.ts";
import type { DecodeEngine } from "./_engine_stream.ts";
import { ZstdFrameChecker } from "./_zstd_frames.ts";
import { DecompressionError } from "./errors.ts";

/** The formats `node:zlib` decodes for us. */
export type NodeZlibFormat = "gzip" | "zstd";

type ZlibStream = ReturnType<typeof zlib.createGunzip>;

/**
 * A {@linkcode DecodeEngine} over `zlib.createGunzip()` (multi-member gzip;
 * trailing zero bytes are ignored, other trailing bytes are an error) or
 * `zlib.createZstdDecompress()` (multi-frame zstd, skippable frames).
 *
 * @example
 * ```ts
 * import { nodeZlibEngine } from "./_node_zlib.ts";
 * const engine = nodeZlibEngine("zstd");
 * ```
 */
export function nodeZlibEngine(format: NodeZlibFormat): DecodeEngine {
  const z: ZlibStream = format === "gzip" ? zlib.createGunzip() : zlib.createZstdDecompress();
  const checker = format === "zstd" ? new ZstdFrameChecker() : undefined;
  guardNativeWrite(z);
  let error: unknown;
  let ended = false;
  let inputBytes = 0;
  const changes = new Changes();
  const changed = () => changes.notify();
  const nextChange = () => changes.next();
  z.on("readable", changed);
  z.on("drain", changed);
  z.on("end", () => {
    ended = true;
    changed();
  });
  z.on("error", (e: Error) => {
    error ??= new DecompressionError(format, e.message, { cause: e });
    changed();
  });
  z.on("close", () => {
    if (!ended) error ??= new DecompressionError(format, "decoder closed before its output ended");
    changed();
  });

  return {
    async write(chunk) {
      if (error !== undefined) throw error;
      const pieces = checker ? checker.feed(chunk) : [chunk];
      inputBytes += chunk.byteLength;
      for (const piece of pieces) {
        if (!z.write(piece)) {
          while (error === undefined && z.writableNeedDrain) await nextChange();
        }
        if (error !== undefined) throw error;
      }
      if (error !== undefined) throw error;
    },
    end() {
      if (error !== undefined) throw error;
      if (format === "gzip" && inputBytes === 0) {
        throw new DecompressionError("gzip", "empty input, expected a gzip member", { offset: 0 });
      }
      checker?.end();
      z.end();
    },
    async read() {
      for (;;) {
        if (error !== undefined) throw error;
        const out = z.read() as Uint8Array | null;
        if (out !== null) return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
        if (ended) return null;
        await nextChange();
      }
    },
    destroy(reason) {
      error ??= reason;
      z.destroy();
      changed();
    },
  };
}

/**
 * Makes the native decoder's synchronous throws (which Deno 2.9.6 raises from
 * a `nextTick` callback, crashing the process) go through the handle's
 * `onerror`, i.e. become an `'error'` event on the stream. Throws if the
 * internals it relies on are missing, so that a Deno upgrade that changes
 * them fails loudly in the tests instead of silently losing the guard.
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { guardNativeWrite } from "./_node_zlib.ts";
 * guardNativeWrite(zlib.createZstdDecompress());
 * ```
 */
export function guardNativeWrite(stream: object): void {
  const handle = (stream as { _handle?: Record<PropertyKey, unknown> })._handle;
  const key = handle &&
    Object.getOwnPropertySymbols(handle).find((s) => s.description === "kNativeWrite");
  const original = key && handle[key];
  if (!handle || !key || typeof original !== "function" || typeof handle.onerror !== "function") {
    throw new Error("node:zlib internals changed: cannot guard the native decoder against throws");
  }
  handle[key] = function (this: { onerror(message: string, errno: number): void }, ...args: []) {
    try {
      return original.apply(this, args);
    } catch (e) {
      this.onerror(e instanceof Error ? e.message : String(e), -1);
      return null;
    }
  };
}
