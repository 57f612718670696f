/**
 * One-shot SHA-256 in JavaScript (`@noble/hashes`), for small inputs — the
 * signed part of a narinfo, an RFC 6979 HMAC — in code that a short-lived
 * process loads without any other hashing: the `--query` helper. `sha256.ts`
 * runs on `node:crypto`, whose first use costs a fresh process ~15–20 ms of
 * CPU (the polyfill's modules) against ~5 ms for this one
 * (docs/benchmarks.md, "Closure (issue 9)"); for bulk data (NARs) it is
 * several times faster, so it stays the choice there.
 *
 * @example
 * ```ts
 * import { hmacSha256Small, sha256Small } from "./sha256_small.ts";
 * sha256Small("abc").length; // 32
 * hmacSha256Small(new Uint8Array(32), [new Uint8Array([1])]).length; // 32
 * ```
 * @module
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";

/** SHA-256 of `bytes` (a string is hashed as UTF-8). */
export function sha256Small(bytes: Uint8Array | string): Uint8Array {
  return nobleSha256(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
}

/** HMAC-SHA-256 under `key` of the concatenation of `parts`. */
export function hmacSha256Small(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  const mac = hmac.create(nobleSha256, key);
  for (const p of parts) mac.update(p);
  return mac.digest();
}
