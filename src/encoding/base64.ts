/**
 * Strict standard base64 (RFC 4648 §4, padded), as used in narinfo
 * `Signature:`/`Sig:` fields and Nix key files.
 *
 * @example
 * ```ts
 * import { base64Decode, base64Encode } from "./base64.ts";
 * base64Encode(base64Decode("aGk=")); // "aGk="
 * ```
 * @module
 */
import { EncodingError } from "./errors.ts";

const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Encodes bytes as padded standard base64. */
export function base64Encode(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Decodes padded standard base64. @throws {EncodingError} on any other input. */
export function base64Decode(text: string): Uint8Array {
  if (!STRICT.test(text)) {
    throw new EncodingError(
      `base64: not valid padded base64: "${text.length > 60 ? text.slice(0, 57) + "..." : text}"`,
    );
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
