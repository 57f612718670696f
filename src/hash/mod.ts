/**
 * SHA-256 (on `node:crypto`; small one-shot inputs also in JavaScript, for
 * processes that load no `node:` module) and NarHash text (`sha256:<nix32>`). Pure.
 *
 * @example
 * ```ts
 * import { formatNarHash, sha256 } from "./mod.ts";
 * formatNarHash(sha256("hello")); // "sha256:..."
 * ```
 * @module
 */
export { formatNarHash, hashNarStream, narHashHex, parseNarHash } from "./nar_hash.ts";
export type { ParseNarHashOptions } from "./nar_hash.ts";
export { Sha256, sha256, sha256Tap } from "./sha256.ts";
export { hmacSha256Small, sha256Small } from "./sha256_small.ts";
