/**
 * Sending frames on a libp2p stream with backpressure.
 * @module
 */
import type { Stream } from "@libp2p/interface";

/** The reader of a stream took nothing for too long (slow-reader protection). */
export class StreamStalledError extends Error {
  override name = "StreamStalledError";
}

/**
 * Sends byte parts in order, waiting for the stream to drain when its buffer
 * is full; with `stallMs`, a drain that takes longer fails with
 * {@linkcode StreamStalledError} (the caller resets the stream, freeing its window).
 */
export async function sendParts(
  stream: Stream,
  parts: Uint8Array[],
  signal?: AbortSignal,
  stallMs?: number,
): Promise<void> {
  for (const part of parts) {
    if (part.length === 0) continue;
    if (stream.send(part)) continue;
    if (stallMs === undefined) {
      await stream.onDrain(signal ? { signal } : {});
      continue;
    }
    const stall = AbortSignal.timeout(stallMs);
    try {
      await stream.onDrain({ signal: signal ? AbortSignal.any([signal, stall]) : stall });
    } catch (e) {
      if (stall.aborted && !signal?.aborted) {
        throw new StreamStalledError(`the reader took nothing for ${stallMs / 1000} s`);
      }
      throw e;
    }
  }
}
