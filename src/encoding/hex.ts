/**
 * Base16 helpers.
 *
 * @example
 * ```ts
 * import { hexEncode, hexDecode } from "./hex.ts";
 * hexEncode(new Uint8Array([0xab, 1])); // "ab01"
 * hexDecode("AB01");                  // Uint8Array [0xab, 1]
 * ```
 * @module
 */
import { EncodingError } from "./errors.ts";

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Encodes bytes as lowercase hex. */
export function hexEncode(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += HEX[b];
  return out;
}

/** Decodes hex (either case). @throws {EncodingError} on odd length or a non-hex character. */
export function hexDecode(text: string): Uint8Array {
  if (text.length % 2 !== 0) {
    throw new EncodingError(`hex: odd number of characters (${text.length})`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const pair = text.slice(2 * i, 2 * i + 2);
    if (!/^[0-9a-fA-F]{2}$/.test(pair)) {
      throw new EncodingError(
        `hex: invalid characters ${JSON.stringify(pair)} at position ${2 * i}`,
      );
    }
    out[i] = parseInt(pair, 16);
  }
  return out;
}
