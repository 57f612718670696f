/**
 * Reading messages from a stream of chunks (a libp2p stream yields
 * `Uint8Array` or `Uint8ArrayList` chunks) with the bounds of
 * {@linkcode FrameDecoder}, abortable while waiting for the next chunk.
 *
 * @example
 * ```ts
 * import { readFrames } from "./read.ts";
 * import { encodeFrame } from "./encode.ts";
 * async function* source() {
 *   yield encodeFrame({ kind: "cancel", id: 1, indexes: [2] });
 * }
 * for await (const message of readFrames(source(), { accept: "requests" })) {
 *   console.log(message.kind); // "cancel"
 * }
 * ```
 * @module
 */
import { type DecodeOptions, FrameDecoder } from "./decode.ts";
import type { WireMessage } from "./messages.ts";

/**
 * A chunk as libp2p streams deliver it: a `Uint8Array`, or anything with
 * `byteLength` and `subarray()` (a `Uint8ArrayList`; when it is iterable, its
 * pieces are taken without concatenating them).
 */
export type ChunkLike = Uint8Array | {
  readonly byteLength: number;
  subarray(): Uint8Array;
  [Symbol.iterator]?(): Iterator<Uint8Array>;
};

/** Options of {@linkcode readFrames}. */
export interface ReadFramesOptions extends DecodeOptions {
  /** Stops reading (also while waiting for a chunk) and throws the signal's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * Yields every message of `source` in order; ends when the source ends at a
 * frame boundary.
 * @throws {WireError} on a protocol violation or a stream that ends inside a frame;
 * the signal's reason when aborted.
 *
 * @example
 * ```ts
 * import { readFrames } from "./read.ts";
 * const controller = new AbortController();
 * const stream = (async function* () {})();
 * for await (const m of readFrames(stream, { signal: controller.signal })) console.log(m);
 * ```
 */
export function readFrames(
  source: AsyncIterable<ChunkLike> | Iterable<ChunkLike>,
  options: ReadFramesOptions = {},
): AsyncGenerator<WireMessage, void, undefined> {
  return readDecoded(source, new FrameDecoder(options), options.signal);
}

/** A push decoder of a framed protocol (the block wire, the narinfo wire). */
export interface PushDecoder<M> {
  /** Adds received bytes. */
  push(bytes: Uint8Array): void;
  /** The next complete message, if any. */
  next(): M | undefined;
  /** The input ended: throws if it stopped inside a frame. */
  end(): void;
}

/**
 * The messages `decoder` finds in a byte source (a libp2p stream: chunks or
 * lists of chunks). Aborting `signal` ends the wait for the next chunk; when
 * the reader stops early the source is closed without waiting for it.
 *
 * @example
 * ```ts
 * for await (const m of readDecoded(stream, new FrameDecoder(), signal)) handle(m);
 * ```
 */
export async function* readDecoded<M>(
  source: AsyncIterable<ChunkLike> | Iterable<ChunkLike>,
  decoder: PushDecoder<M>,
  signal?: AbortSignal,
): AsyncGenerator<M, void, undefined> {
  const iterator = Symbol.asyncIterator in source
    ? source[Symbol.asyncIterator]()
    : (source as Iterable<ChunkLike>)[Symbol.iterator]();
  let finished = false;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const step = await nextOrAbort(iterator, signal);
      if (step.done) {
        finished = true;
        break;
      }
      pushChunk(decoder, step.value);
      for (let m = decoder.next(); m !== undefined; m = decoder.next()) {
        yield m;
        signal?.throwIfAborted();
      }
    }
    decoder.end();
  } finally {
    if (!finished) closeQuietly(iterator);
  }
}

function pushChunk(decoder: { push(bytes: Uint8Array): void }, chunk: ChunkLike): void {
  if (chunk instanceof Uint8Array) {
    decoder.push(chunk);
  } else if (typeof chunk[Symbol.iterator] === "function") {
    for (const piece of chunk as Iterable<Uint8Array>) decoder.push(piece);
  } else {
    decoder.push(chunk.subarray());
  }
}

function nextOrAbort(
  iterator: AsyncIterator<ChunkLike> | Iterator<ChunkLike>,
  signal: AbortSignal | undefined,
): Promise<IteratorResult<ChunkLike>> {
  const step = Promise.resolve(iterator.next());
  if (!signal) return step;
  const { promise, reject } = Promise.withResolvers<never>();
  const onAbort = () => reject(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  return Promise.race([step, promise]).finally(() => {
    signal.removeEventListener("abort", onAbort);
  });
}

function closeQuietly(iterator: AsyncIterator<ChunkLike> | Iterator<ChunkLike>): void {
  // Not awaited: an async generator stuck in a pending next() runs return() only after it.
  try {
    const done = iterator.return?.();
    if (done instanceof Promise) done.catch(() => {});
  } catch {
    // The source's own clean-up failed; the reading error is what the caller needs.
  }
}
