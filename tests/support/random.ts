/**
 * Random bytes of any length for test data (crypto.getRandomValues caps one call at 64 KiB).
 * @module
 */

/** `n` random bytes. */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(out.subarray(off, off + 65536));
  return out;
}
