/**
 * How the xz format encodes its fields: variable-length integers, little-endian
 * 32-bit words, and the size of each integrity check; plus the hex rendering
 * the error messages use.
 *
 * @example
 * ```ts
 * import { readVarint } from "./_xz_fields.ts";
 * const input = { bytes: new Uint8Array([0x80, 0x01]), pos: 0, end: 2, offset: 0, ended: true };
 * readVarint(input, 0, "size"); // { value: 128, end: 2 }
 * ```
 * @module
 */
import { type InputBuffer, NEED_INPUT } from "./_sync_engine.ts";
import { DecompressionError } from "./errors.ts";

/**
 * Reads an xz variable-length integer at `p`; `NEED_INPUT` if incomplete.
 * Throws on a non-minimal, over-long or unsafe value, naming `what`.
 *
 * @example
 * ```ts
 * import { readVarint } from "./_xz_fields.ts";
 * const input = { bytes: new Uint8Array([0x05]), pos: 0, end: 1, offset: 0, ended: true };
 * readVarint(input, 0, "record count"); // { value: 5, end: 1 }
 * ```
 */
export function readVarint(
  input: InputBuffer,
  p: number,
  what: string,
): { value: number; end: number } | typeof NEED_INPUT {
  const b = input.bytes;
  let value = 0;
  for (let k = 0; k < 9; k++) {
    if (p + k >= input.end) return NEED_INPUT;
    const byte = b[p + k]!;
    value += (byte & 0x7f) * 2 ** (7 * k);
    if ((byte & 0x80) === 0) {
      if (byte === 0 && k > 0) {
        throw new DecompressionError("xz", `non-minimal encoding of the ${what}`, {
          offset: input.offset + p,
        });
      }
      if (!Number.isSafeInteger(value)) {
        throw new DecompressionError("xz", `${what} ${value} is too large`, {
          offset: input.offset + p,
        });
      }
      return { value, end: p + k + 1 };
    }
  }
  throw new DecompressionError("xz", `${what} is longer than 9 bytes`, {
    offset: input.offset + p,
  });
}

/**
 * The size in bytes of integrity check `type` (0 none, 1 CRC32, 4 CRC64, 10 SHA-256).
 *
 * @example
 * ```ts
 * import { checkSize } from "./_xz_fields.ts";
 * checkSize(4); // 8
 * ```
 */
export function checkSize(type: number): number {
  return type === 0 ? 0 : 4 << Math.floor((type - 1) / 3);
}

/**
 * The little-endian unsigned 32-bit word at `b[p]`.
 *
 * @example
 * ```ts
 * import { u32 } from "./_xz_fields.ts";
 * u32(new Uint8Array([1, 0, 0, 0]), 0); // 1
 * ```
 */
export function u32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

/**
 * `n` in hexadecimal, zero-padded to `width` digits.
 *
 * @example
 * ```ts
 * import { hex } from "./_xz_fields.ts";
 * hex(10); // "0a"
 * ```
 */
export function hex(n: number, width = 2): string {
  return n.toString(16).padStart(width, "0");
}

/**
 * `bytes` as lowercase hexadecimal.
 *
 * @example
 * ```ts
 * import { toHex } from "./_xz_fields.ts";
 * toHex(new Uint8Array([1, 255])); // "01ff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => hex(b)).join("");
}
