/**
 * Byte-array helpers shared by the codecs (the `@std/bytes` `concat` the
 * design names; JSR is out of reach, see `src/std/`).
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * concatBytes([Uint8Array.of(1, 2), Uint8Array.of(3)]); // Uint8Array [1, 2, 3]
 * ```
 * @module
 */

/**
 * Concatenates `parts` into one new array. `total`, when the caller already
 * knows it, is the sum of the parts' lengths.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * concatBytes([new Uint8Array(2), Uint8Array.of(7)], 3); // Uint8Array [0, 0, 7]
 * ```
 */
export function concatBytes(
  parts: readonly Uint8Array[],
  total: number = parts.reduce((n, p) => n + p.length, 0),
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
