/**
 * Nix base32 ("nix32"): the hash encoding of Nix and Guix store paths and
 * narinfo hashes. Alphabet `0123456789abcdfghijklmnpqrsvwxyz` (no e, o, u, t);
 * the bytes are read as a little-endian integer and written most significant
 * digit first. Decoding is strict: unknown characters and non-zero overflow
 * bits are errors (Nix and Guix silently drop them).
 *
 * @example
 * ```ts
 * import { nix32Encode, nix32Decode } from "./nix32.ts";
 * nix32Encode(new Uint8Array([1, 2])); // "00h1"
 * nix32Decode("00h1", 2);             // Uint8Array [1, 2]
 * ```
 * @module
 */
import { EncodingError } from "./errors.ts";

/** The 32 characters of the nix32 alphabet, in digit order. */
export const NIX32_ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz";

const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < NIX32_ALPHABET.length; i++) DIGIT[NIX32_ALPHABET.charCodeAt(i)] = i;

/** Number of nix32 characters that encode `byteLength` bytes: ⌈8·n/5⌉. */
export function nix32Length(byteLength: number): number {
  return Math.ceil((byteLength * 8) / 5);
}

/** Encodes bytes as nix32 (52 characters for a SHA-256 digest, 32 for a store-path hash). */
export function nix32Encode(bytes: Uint8Array): string {
  const len = nix32Length(bytes.length);
  let out = "";
  for (let k = len - 1; k >= 0; k--) {
    const bit = k * 5;
    const i = bit >> 3;
    const j = bit & 7;
    const lo = bytes[i]! >> j;
    const hi = i + 1 < bytes.length ? bytes[i + 1]! << (8 - j) : 0;
    out += NIX32_ALPHABET[(lo | hi) & 31];
  }
  return out;
}

/** True when every character of `text` is in the nix32 alphabet. */
export function isNix32(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || DIGIT[c]! < 0) return false;
  }
  return true;
}

/**
 * Decodes nix32 text into exactly `byteLength` bytes.
 *
 * @throws {EncodingError} on a wrong length, a character outside the alphabet
 * (naming its position), or overflow bits that do not fit in `byteLength` bytes.
 */
export function nix32Decode(text: string, byteLength: number): Uint8Array {
  const expected = nix32Length(byteLength);
  if (text.length !== expected) {
    throw new EncodingError(
      `nix32: expected ${expected} characters for ${byteLength} bytes, got ${text.length}: "${
        clip(text)
      }"`,
    );
  }
  const out = new Uint8Array(byteLength);
  for (let n = 0; n < text.length; n++) {
    const code = text.charCodeAt(n);
    const digit = code < 128 ? DIGIT[code]! : -1;
    if (digit < 0) {
      throw new EncodingError(
        `nix32: invalid character ${JSON.stringify(text[n])} at position ${n} in "${clip(text)}"`,
      );
    }
    const k = text.length - 1 - n;
    const bit = k * 5;
    const i = bit >> 3;
    const j = bit & 7;
    out[i]! |= (digit << j) & 0xff;
    const carry = digit >> (8 - j);
    if (carry !== 0) {
      if (i + 1 < byteLength) out[i + 1]! |= carry;
      else {
        throw new EncodingError(
          `nix32: "${clip(text)}" does not fit in ${byteLength} bytes (non-zero overflow bits)`,
        );
      }
    }
  }
  return out;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
