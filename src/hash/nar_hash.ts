/**
 * NarHash values: `sha256:<52 nix32 chars>` as narinfos and status lines write
 * them. Parsing is strict by default (Guix form only); `lenient` also accepts
 * the base16 and SRI forms that Nix narinfos may carry.
 *
 * @example
 * ```ts
 * import { formatNarHash, parseNarHash } from "./nar_hash.ts";
 * const digest = parseNarHash("sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73");
 * formatNarHash(digest); // round-trips
 * ```
 * @module
 */
import { base64Decode } from "../encoding/base64.ts";
import { EncodingError } from "../encoding/errors.ts";
import { hexDecode, hexEncode } from "../encoding/hex.ts";
import { nix32Decode, nix32Encode } from "../encoding/nix32.ts";

/** Formats a 32-byte SHA-256 digest as `sha256:<nix32>`. */
export function formatNarHash(digest: Uint8Array): string {
  return `sha256:${nix32Encode(digest)}`;
}

/** Options of {@linkcode parseNarHash}. */
export interface ParseNarHashOptions {
  /** Also accept `sha256:<64 hex>` and `sha256-<base64>` (Nix forms). Default false. */
  lenient?: boolean;
}

/**
 * Parses a NarHash into its 32-byte digest.
 * @throws {EncodingError} naming the offending value when it is not a SHA-256 NarHash.
 */
export function parseNarHash(text: string, options: ParseNarHashOptions = {}): Uint8Array {
  if (options.lenient && text.startsWith("sha256-")) {
    const bytes = base64Decode(text.slice(7));
    if (bytes.length === 32) return bytes;
    throw new EncodingError(`NarHash: SRI digest is ${bytes.length} bytes, expected 32: "${text}"`);
  }
  if (!text.startsWith("sha256:")) {
    throw new EncodingError(`NarHash: expected "sha256:<nix32>", got "${clip(text)}"`);
  }
  const body = text.slice(7);
  if (options.lenient && body.length === 64) return hexDecode(body);
  if (body.length !== 52) {
    throw new EncodingError(
      `NarHash: expected 52 nix32 characters after "sha256:", got ${body.length}: "${clip(text)}"`,
    );
  }
  return nix32Decode(body, 32);
}

/** Lowercase hex of a digest (the form used in cache file names and logs). */
export function narHashHex(digest: Uint8Array): string {
  return hexEncode(digest);
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * NAR hash and size of a NAR stream (tests compare it with `hashPath`).
 *
 * @example
 * ```ts
 * import { hashNarStream } from "./nar_hash.ts";
 * declare const nar: ReadableStream<Uint8Array>;
 * const { digest, size } = await hashNarStream(nar);
 * ```
 */
export async function hashNarStream(
  stream: ReadableStream<Uint8Array>,
): Promise<{ digest: Uint8Array; size: number }> {
  // Imported here: parsing NarHash text (narinfos in the `--query` helper) needs no node:crypto.
  const { Sha256 } = await import("./sha256.ts");
  const hash = new Sha256();
  for await (const chunk of stream) hash.update(chunk);
  return { digest: hash.digest(), size: hash.byteLength };
}
