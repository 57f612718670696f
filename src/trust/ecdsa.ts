/**
 * ECDSA over the edwards25519 curve with libgcrypt's semantics: the scheme of
 * Guix narinfo signatures (../shared/docs/guix-substitute-protocol.md §4.8). This is NOT
 * RFC 8032 Ed25519: the hash is truncated to the 253 bits of the group order,
 * the nonce is RFC 6979 (HMAC-SHA-256), `r` is the affine x-coordinate of k·G
 * reduced mod n, and `s = k⁻¹(e + r·d) mod n`.
 *
 * @example
 * ```ts
 * import { ecdsaSign, ecdsaVerify, publicPointFromSecret } from "./ecdsa.ts";
 * const d = 0x5A7DCE66E15EFD70001CE95051D830DE08E222B7F2B28C2C877E3D4278D03150n;
 * const hash = new Uint8Array(32).fill(7);
 * const { r, s } = ecdsaSign(hash, d);
 * ecdsaVerify(hash, r, s, publicPointFromSecret(d)); // true
 * ```
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { hmacSha256Small } from "../hash/sha256_small.ts";
import { mulAddUnsafe } from "@noble/curves/abstract/curve.js";
import type { EdwardsPoint } from "@noble/curves/abstract/edwards.js";

/** The point type of `@noble/curves` (extended coordinates). */
export type { EdwardsPoint };

const Point = ed25519.Point;
/** The order n of the edwards25519 base point (253 bits). */
export const CURVE_ORDER: bigint = Point.Fn.ORDER;
/** The field prime p = 2²⁵⁵ − 19. */
export const FIELD_PRIME: bigint = Point.Fp.ORDER;
const N = CURVE_ORDER;
const QBITS = 253;
const Fn = Point.Fn;
const Fp = Point.Fp;

/**
 * Window size used by {@linkcode precomputePoint} for long-lived keys (the
 * daemon's ACL keys): the fastest verification (~115 µs), for a table that
 * takes ~18 ms per point to build.
 */
export const KEY_WINDOW = 8;

/** A copy of the base point (tables attached to it stay ours, not `ed25519.Point.BASE`'s). */
const basePoint = (): EdwardsPoint =>
  new Point(Point.BASE.X, Point.BASE.Y, Point.BASE.Z, Point.BASE.T);
/** The base point without a table: verification with keys without one (Strauss–Shamir). */
const G: EdwardsPoint = basePoint();
/** Copies of the base point with a window table, by window size (built on first use). */
const tabledBases = new Map<number, EdwardsPoint>();
/** The window size of each point that {@linkcode precomputePoint} gave a table. */
const keyWindows = new WeakMap<EdwardsPoint, number>();

/** The base point with a `windowSize` table (built now if it is not yet). */
function tabledBase(windowSize: number): EdwardsPoint {
  let g = tabledBases.get(windowSize);
  if (!g) {
    g = basePoint().precompute(windowSize, false);
    tabledBases.set(windowSize, g);
  }
  return g;
}

/**
 * Decodes a 32-byte RFC 8032 point encoding (little-endian y, x parity in bit
 * 255); rejects encodings that are not on the curve or have y ≥ p.
 *
 * @example
 * ```ts
 * import { decodePoint } from "./ecdsa.ts";
 * const q = new Uint8Array(32);
 * q[0] = 1; // y = 1, x = 0: the identity, a valid encoding
 * decodePoint(q).is0(); // true
 * ```
 */
export function decodePoint(q: Uint8Array): EdwardsPoint {
  return Point.fromBytes(q, false);
}

/**
 * Encodes a point as 32 bytes (RFC 8032).
 *
 * @example
 * ```ts
 * import { encodePoint, publicPointFromSecret } from "./ecdsa.ts";
 * encodePoint(publicPointFromSecret(1n)).length; // 32
 * ```
 */
export function encodePoint(point: EdwardsPoint): Uint8Array {
  return point.toBytes();
}

/**
 * Builds window tables for `point` and for the base point (the base point's
 * once per window size and process), so that every later verification with
 * this key costs far less: ~115 µs at W=8, ~135 µs at W=6, against ~400 µs
 * without tables. A table costs ~18 ms per point to build at W=8, ~5 ms at
 * W=6 (docs/benchmarks.md "Signatures"): meant for the few keys of an ACL
 * that sign many narinfos in this process. Returns the same point.
 *
 * @example
 * ```ts
 * import { decodePoint, precomputePoint, publicPointFromSecret, encodePoint } from "./ecdsa.ts";
 * const q = precomputePoint(decodePoint(encodePoint(publicPointFromSecret(5n))));
 * ```
 */
export function precomputePoint(point: EdwardsPoint, windowSize = KEY_WINDOW): EdwardsPoint {
  tabledBase(windowSize);
  point.precompute(windowSize, false);
  keyWindows.set(point, windowSize);
  return point;
}

/**
 * The public point Q = d·G for a secret scalar `d` (reduced mod n first, as
 * the group has order n; Guix's clamped d is larger than n).
 *
 * @throws {RangeError} when d ≡ 0 (mod n).
 */
export function publicPointFromSecret(d: bigint): EdwardsPoint {
  const reduced = d % N;
  if (reduced === 0n) throw new RangeError("ECDSA secret scalar is 0 mod n");
  return tabledBase(KEY_WINDOW).multiply(reduced);
}

/**
 * The message representative e of libgcrypt's `_gcry_dsa_normalize_hash`: the
 * hash as a big-endian integer, shifted right to 253 bits when longer.
 *
 * @example
 * ```ts
 * import { hashToInteger } from "./ecdsa.ts";
 * hashToInteger(new Uint8Array(32).fill(0xff)) === (1n << 253n) - 1n; // true
 * ```
 */
export function hashToInteger(hash: Uint8Array): bigint {
  const value = bytesToBigInt(hash);
  const bits = hash.length * 8;
  return bits > QBITS ? value >> BigInt(bits - QBITS) : value;
}

/**
 * Verifies an ECDSA signature (r, s) of `hash` under public point `q`, as
 * libgcrypt's `_gcry_ecc_ecdsa_verify`: 0 < r, s < n; w = s⁻¹; u1 = e·w;
 * u2 = r·w; X = u1·G + u2·Q; accept iff X is not the identity and
 * x(X) mod n = r. With a key that {@linkcode precomputePoint} gave a table,
 * both products come from tables; otherwise X is one Strauss–Shamir
 * multi-scalar multiplication (one doubling chain, small per-call tables), so
 * a process that checks one signature builds no table at all.
 *
 * @example
 * ```ts
 * import { ecdsaSign, ecdsaVerify, publicPointFromSecret } from "./ecdsa.ts";
 * const hash = new Uint8Array(32).fill(1);
 * const { r, s } = ecdsaSign(hash, 12345n);
 * ecdsaVerify(hash, r, s, publicPointFromSecret(12345n)); // true
 * ecdsaVerify(hash, s, r, publicPointFromSecret(12345n)); // false
 * ```
 */
export function ecdsaVerify(hash: Uint8Array, r: bigint, s: bigint, q: EdwardsPoint): boolean {
  if (r <= 0n || r >= N || s <= 0n || s >= N) return false;
  const e = hashToInteger(hash);
  const w = Fn.inv(s);
  const u1 = Fn.mul(e % N, w);
  const u2 = Fn.mul(r, w);
  const window = keyWindows.get(q);
  const sum = window === undefined
    ? mulAddUnsafe(Point, [G, q], [u1, u2])
    : mulOrZero(tabledBase(window), u1).add(mulOrZero(q, u2));
  if (sum.is0()) return false;
  // x(X) mod n == r with x = X/Z in [0, p): as p ≈ 8n, x is one of r, r + n, …
  // below p. Compare projectively (X == x·Z) to save toAffine()'s field inversion.
  const { X, Z } = sum;
  for (let x = r; x < FIELD_PRIME; x += N) {
    if (Fp.eql(X, Fp.mul(x, Z))) return true;
  }
  return false;
}

function mulOrZero(point: EdwardsPoint, scalar: bigint): EdwardsPoint {
  // multiplyUnsafe accepts 0 (→ identity); scalars here are already < n.
  return point.multiplyUnsafe(scalar);
}

/** An ECDSA signature with the nonce that produced it (for test vectors). */
export interface EcdsaSignature {
  /** r = x(k·G) mod n. */
  r: bigint;
  /** s = k⁻¹(e + r·d) mod n. */
  s: bigint;
  /** The RFC 6979 nonce used. */
  k: bigint;
}

/**
 * Signs `hash` with secret scalar `d` exactly as libgcrypt 1.10 does for a key
 * with `(flags rfc6979)`: deterministic RFC 6979 nonce with HMAC-SHA-256 over
 * int2octets(d as stored) and bits2octets(hash); retried (as libgcrypt's
 * `extraloops`) if r or s comes out 0.
 *
 * @throws {RangeError} when d ≡ 0 (mod n) or d ≥ 2²⁵⁶.
 */
export function ecdsaSign(hash: Uint8Array, d: bigint): EcdsaSignature {
  const dr = d % N;
  if (dr === 0n) throw new RangeError("ECDSA secret scalar is 0 mod n");
  const e = hashToInteger(hash);
  const nonces = rfc6979Nonces(hash, d);
  for (;;) {
    const k = nonces.next().value as bigint;
    const { x } = tabledBase(KEY_WINDOW).multiply(k).toAffine();
    const r = x % N;
    if (r === 0n) continue;
    const s = Fn.mul(Fn.inv(k), Fn.add(e % N, Fn.mul(r, dr)));
    if (s === 0n) continue;
    return { r, s, k };
  }
}

/**
 * The RFC 6979 nonce sequence (HMAC-SHA-256, q = n, qlen = 253) with
 * libgcrypt's inputs: x = `d` exactly as stored (32 bytes, not reduced mod n)
 * and h1 = `hash`. The first value is the nonce; later values are the retries
 * of step h.3.
 *
 * @example
 * ```ts
 * import { rfc6979Nonces } from "./ecdsa.ts";
 * const k = rfc6979Nonces(new Uint8Array(32), 1n).next().value;
 * ```
 */
export function* rfc6979Nonces(hash: Uint8Array, d: bigint): Generator<bigint, never> {
  const rlen = Math.ceil(QBITS / 8);
  const x = bigIntToBytes(d, rlen);
  // bits2octets(h1) = int2octets(bits2int(h1) mod q)
  const z1 = hashToInteger(hash);
  const h = bigIntToBytes(z1 >= N ? z1 - N : z1, rlen);
  let v: Uint8Array = new Uint8Array(32).fill(1);
  let k: Uint8Array = new Uint8Array(32);
  const hmac = (key: Uint8Array, ...parts: Uint8Array[]) => hmacSha256Small(key, parts);
  const zero = new Uint8Array([0]);
  const one = new Uint8Array([1]);
  k = hmac(k, v, zero, x, h);
  v = hmac(k, v);
  k = hmac(k, v, one, x, h);
  v = hmac(k, v);
  for (;;) {
    // qlen = 253 ≤ hlen = 256: one HMAC block is T; bits2int keeps its top 253 bits.
    v = hmac(k, v);
    const candidate = bytesToBigInt(v) >> BigInt(256 - QBITS);
    if (candidate > 0n && candidate < N) yield candidate;
    k = hmac(k, v, zero);
    v = hmac(k, v);
  }
}

/**
 * Big-endian unsigned bytes to a bigint.
 *
 * @example
 * ```ts
 * import { bytesToBigInt } from "./ecdsa.ts";
 * bytesToBigInt(new Uint8Array([1, 0])); // 256n
 * ```
 */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex === "" ? 0n : BigInt("0x" + hex);
}

/**
 * A bigint as exactly `length` big-endian bytes.
 *
 * @throws {RangeError} when the value is negative or does not fit.
 */
export function bigIntToBytes(value: bigint, length: number): Uint8Array {
  if (value < 0n) throw new RangeError(`negative integer ${value}`);
  const hex = value.toString(16).padStart(length * 2, "0");
  if (hex.length > length * 2) throw new RangeError(`integer does not fit in ${length} bytes`);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * A non-negative bigint as its minimal big-endian bytes (no leading zeros;
 * `0` gives one zero byte), as libgcrypt prints unsigned MPIs.
 *
 * @example
 * ```ts
 * import { bigIntToMinimalBytes } from "./ecdsa.ts";
 * bigIntToMinimalBytes(0x1234n); // Uint8Array [0x12, 0x34]
 * ```
 */
export function bigIntToMinimalBytes(value: bigint): Uint8Array {
  if (value < 0n) throw new RangeError(`negative integer ${value}`);
  const hex = value.toString(16);
  return bigIntToBytes(value, Math.max(1, Math.ceil(hex.length / 2)));
}
