/**
 * Sending frames on a libp2p stream with backpressure.
 * @module
 */
import type { Stream } from "@libp2p/interface";

/** Sends byte parts in order, waiting for the stream to drain when its buffer is full. */
export async function sendParts(
  stream: Stream,
  parts: Uint8Array[],
  signal?: AbortSignal,
): Promise<void> {
  for (const part of parts) {
    if (part.length === 0) continue;
    if (!stream.send(part)) await stream.onDrain(signal ? { signal } : {});
  }
}
