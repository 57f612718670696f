/**
 * Byte encodings: Nix's base32 (nix32), hex, base64, and byte helpers. Pure.
 *
 * @example
 * ```ts
 * import { hexEncode, nix32Encode } from "./mod.ts";
 * nix32Encode(new Uint8Array(20)); // "00000000000000000000000000000000"
 * hexEncode(new Uint8Array([255])); // "ff"
 * ```
 * @module
 */
export { base64Decode, base64Encode } from "./base64.ts";
export { concatBytes } from "./bytes.ts";
export { EncodingError } from "./errors.ts";
export { hexDecode, hexEncode } from "./hex.ts";
export { isNix32, NIX32_ALPHABET, nix32Decode, nix32Encode, nix32Length } from "./nix32.ts";
