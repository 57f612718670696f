/**
 * Small byte-stream transforms used by the sources.
 * @module
 */

/** Counts bytes passing through; `count()` reads the running total. */
export function byteCounter(): {
  stream: TransformStream<Uint8Array, Uint8Array>;
  count(): number;
} {
  let n = 0;
  return {
    stream: new TransformStream({
      transform(chunk, c) {
        n += chunk.length;
        c.enqueue(chunk);
      },
    }),
    count: () => n,
  };
}

/** Drops the first `n` bytes. */
export function skipBytes(n: number): TransformStream<Uint8Array, Uint8Array> {
  let left = n;
  return new TransformStream({
    transform(chunk, c) {
      if (left >= chunk.length) {
        left -= chunk.length;
        return;
      }
      c.enqueue(left > 0 ? chunk.subarray(left) : chunk);
      left = 0;
    },
  });
}
