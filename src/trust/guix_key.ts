/**
 * Guix signing keys: `signing-key.pub` = `(public-key (ecc (curve Ed25519)
 * (q #…#)))` and `signing-key.sec` = `(private-key (ecc (curve Ed25519) (q #…#)
 * (d #…#)))` (../shared/docs/guix-substitute-protocol.md §4.7), parsed from any s-expression
 * form and printed back in libgcrypt's advanced format, plus Guix-style key
 * generation (§4.8).
 *
 * @example
 * ```ts
 * import { generateGuixKey, parseGuixPublicKey } from "./guix_key.ts";
 * const secret = generateGuixKey();
 * const text = secret.publicKey.format(); // "(public-key \n (ecc \n  (curve Ed25519)\n  (q #…#)\n  )\n )\n"
 * parseGuixPublicKey(text).hex === secret.publicKey.hex; // true
 * ```
 * @module
 */
import { hexEncode } from "../encoding/hex.ts";
import {
  atomIs,
  atomText,
  list,
  listHead,
  parseSexp,
  printAdvanced,
  type Sexp,
  SexpError,
  type SexpList,
} from "../sexp/mod.ts";
import {
  bigIntToMinimalBytes,
  bytesToBigInt,
  CURVE_ORDER,
  decodePoint,
  type EdwardsPoint,
  encodePoint,
  KEY_WINDOW,
  precomputePoint,
  publicPointFromSecret,
} from "./ecdsa.ts";
import { GuixKeyError } from "./errors.ts";

/** The only curve Guix uses. */
export const GUIX_CURVE = "Ed25519";

/** A Guix public key: an ECDSA key on edwards25519. */
export class GuixPublicKey {
  /** The `q` atom exactly as stored (32 bytes, or 33 with libgcrypt's 0x40 prefix). */
  readonly q: Uint8Array;
  /** The whole `(public-key ...)` s-expression, as parsed or built. */
  readonly sexp: SexpList;
  #point: EdwardsPoint | undefined;

  /** Wraps an already validated key; use {@linkcode parseGuixPublicKey} for input. */
  constructor(q: Uint8Array, sexp: SexpList, point?: EdwardsPoint) {
    this.q = q;
    this.sexp = sexp;
    this.#point = point;
  }

  /** The decoded curve point (decoded once). */
  get point(): EdwardsPoint {
    this.#point ??= decodePoint(pointBytes(this.q));
    return this.#point;
  }

  /** Uppercase hex of the 32-byte point encoding, as Guix prints keys. */
  get hex(): string {
    return hexEncode(pointBytes(this.q)).toUpperCase();
  }

  /** Short form for messages: `7D6029…E34F`. */
  get shortHex(): string {
    const h = this.hex;
    return `${h.slice(0, 6)}…${h.slice(-4)}`;
  }

  /**
   * Builds the window table of this key's point now (and the base point's),
   * making every later verification about three times cheaper. For keys that
   * sign many narinfos in this process (the ACL's); `windowSize` defaults to
   * {@linkcode KEY_WINDOW} (the daemon's; a helper that checks a batch uses a
   * smaller, quicker to build table).
   */
  precompute(windowSize: number = KEY_WINDOW): this {
    precomputePoint(this.point, windowSize);
    return this;
  }

  /** The key file text: libgcrypt's advanced format of {@linkcode sexp}. */
  format(): string {
    return printAdvanced(this.sexp);
  }
}

/** A Guix secret key with its public half. */
export class GuixPrivateKey {
  /** The secret scalar exactly as stored (Guix's clamped d is larger than n). */
  readonly d: bigint;
  /** The public half, whose `q` is the one in the key file. */
  readonly publicKey: GuixPublicKey;
  /** The whole `(private-key ...)` s-expression. */
  readonly sexp: SexpList;

  /** Wraps an already validated key; use {@linkcode parseGuixPrivateKey} for input. */
  constructor(d: bigint, publicKey: GuixPublicKey, sexp: SexpList) {
    this.d = d;
    this.publicKey = publicKey;
    this.sexp = sexp;
  }

  /** The key file text (`signing-key.sec`), libgcrypt's advanced format. */
  format(): string {
    return printAdvanced(this.sexp);
  }
}

function pointBytes(q: Uint8Array): Uint8Array {
  return q.length === 33 ? q.subarray(1) : q;
}

function toSexp(input: string | Uint8Array | Sexp, what: string): SexpList {
  if (typeof input === "string" || input instanceof Uint8Array) {
    try {
      return parseSexp(input);
    } catch (e) {
      if (e instanceof SexpError) throw new GuixKeyError(`${what}: ${e.message}`);
      throw e;
    }
  }
  if (input.kind !== "list") throw new GuixKeyError(`${what}: expected a list, got an atom`);
  return input;
}

function describe(node: Sexp): string {
  const text = printAdvanced(node.kind === "list" ? node : list(node)).replace(/\s+/g, " ").replace(
    / \)/g,
    ")",
  ).trim();
  return text.length > 60 ? text.slice(0, 57) + "..." : text;
}

interface EccParams {
  q: Uint8Array;
  d: Uint8Array | undefined;
}

function readEcc(top: SexpList, head: "public-key" | "private-key"): EccParams {
  const what = head === "public-key" ? "public key" : "private key";
  if (listHead(top) !== head) {
    throw new GuixKeyError(`${what}: expected a (${head} ...) list, found ${describe(top)}`);
  }
  if (top.items.length !== 2 || top.items[1]!.kind !== "list") {
    throw new GuixKeyError(`${what}: expected exactly one (ecc ...) list in (${head} ...)`);
  }
  const ecc = top.items[1] as SexpList;
  const algo = listHead(ecc);
  if (algo !== "ecc" && algo !== "ecdsa") {
    throw new GuixKeyError(`${what}: expected (ecc ...), found ${describe(ecc)}`);
  }
  const seen = new Map<string, Uint8Array>();
  for (const item of ecc.items.slice(1)) {
    const name = listHead(item);
    if (item.kind !== "list" || name === undefined) {
      throw new GuixKeyError(`${what}: unexpected element ${describe(item)} in (${algo} ...)`);
    }
    if (name === "flags") {
      if (item.items.slice(1).some((f) => atomIs(f, "eddsa"))) {
        throw new GuixKeyError(`${what}: (flags eddsa) marks an EdDSA key, not a Guix ECDSA key`);
      }
      continue;
    }
    const allowed = head === "public-key" ? ["curve", "q"] : ["curve", "q", "d"];
    if (!allowed.includes(name)) {
      throw new GuixKeyError(`${what}: unexpected parameter ${describe(item)} in (${algo} ...)`);
    }
    if (seen.has(name)) throw new GuixKeyError(`${what}: duplicate (${name} ...)`);
    const value = item.items[1];
    if (item.items.length !== 2 || value?.kind !== "atom") {
      throw new GuixKeyError(`${what}: expected (${name} <atom>), found ${describe(item)}`);
    }
    seen.set(name, value.bytes);
  }
  const curve = seen.get("curve");
  if (curve === undefined) throw new GuixKeyError(`${what}: missing (curve Ed25519)`);
  const curveName = atomText({ kind: "atom", bytes: curve });
  if (curveName !== GUIX_CURVE) {
    throw new GuixKeyError(`${what}: unsupported curve "${curveName}" (expected ${GUIX_CURVE})`);
  }
  const q = seen.get("q");
  if (q === undefined) throw new GuixKeyError(`${what}: missing (q #…#)`);
  if (!(q.length === 32 || (q.length === 33 && q[0] === 0x40))) {
    throw new GuixKeyError(
      `${what}: q must be a 32-byte point encoding, got ${q.length} bytes: ${hexEncode(q)}`,
    );
  }
  return { q, d: seen.get("d") };
}

function checkedPoint(q: Uint8Array, what: string): EdwardsPoint {
  try {
    return decodePoint(pointBytes(q));
  } catch {
    throw new GuixKeyError(`${what}: q is not a point of edwards25519: ${hexEncode(q)}`);
  }
}

/**
 * Parses a Guix public key (`signing-key.pub`, an ACL entry's key, or the
 * `public-key` of a signature) from text, bytes or a parsed s-expression.
 *
 * @example
 * ```ts
 * import { parseGuixPublicKey } from "./guix_key.ts";
 * const key = parseGuixPublicKey(
 *   "(public-key (ecc (curve Ed25519) (q #7D602902D3A2DBB83F8A0FB98602A754C5493B0B778C8D1DD4E0F41DE14DE34F#)))",
 * );
 * key.shortHex; // "7D6029…E34F"
 * ```
 * @throws {GuixKeyError} naming the offending element.
 */
export function parseGuixPublicKey(input: string | Uint8Array | Sexp): GuixPublicKey {
  const sexp = toSexp(input, "public key");
  const { q } = readEcc(sexp, "public-key");
  return new GuixPublicKey(q, sexp, checkedPoint(q, "public key"));
}

/**
 * Parses a Guix secret key (`signing-key.sec`) and checks that its `q` is d·G.
 *
 * @example
 * ```ts
 * import { generateGuixKey, parseGuixPrivateKey } from "./guix_key.ts";
 * const key = parseGuixPrivateKey(generateGuixKey().format());
 * ```
 * @throws {GuixKeyError} naming the offending element.
 */
export function parseGuixPrivateKey(input: string | Uint8Array | Sexp): GuixPrivateKey {
  const sexp = toSexp(input, "private key");
  const { q, d } = readEcc(sexp, "private-key");
  if (d === undefined) throw new GuixKeyError("private key: missing (d #…#)");
  if (d.length > 32) throw new GuixKeyError(`private key: d is ${d.length} bytes, expected ≤ 32`);
  const scalar = bytesToBigInt(d);
  if (scalar % CURVE_ORDER === 0n) throw new GuixKeyError("private key: d is 0 modulo n");
  const point = checkedPoint(q, "private key");
  if (!publicPointFromSecret(scalar).equals(point)) {
    throw new GuixKeyError(`private key: q ${hexEncode(q)} is not d·G for this d`);
  }
  const publicKey = new GuixPublicKey(q, publicKeySexp(q), point);
  return new GuixPrivateKey(scalar, publicKey, sexp);
}

function publicKeySexp(q: Uint8Array): SexpList {
  return list("public-key", list("ecc", list("curve", GUIX_CURVE), list("q", q)));
}

/**
 * The public key for a 32-byte point encoding `q`.
 *
 * @example
 * ```ts
 * import { hexDecode } from "../encoding/hex.ts";
 * import { guixPublicKeyFromQ } from "./guix_key.ts";
 * guixPublicKeyFromQ(hexDecode("7D602902D3A2DBB83F8A0FB98602A754C5493B0B778C8D1DD4E0F41DE14DE34F"));
 * ```
 * @throws {GuixKeyError} when `q` is not a point encoding.
 */
export function guixPublicKeyFromQ(q: Uint8Array): GuixPublicKey {
  return parseGuixPublicKey(publicKeySexp(q));
}

/**
 * A Guix secret key for the scalar `d` (any 1 ≤ d < 2²⁵⁶ with d mod n ≠ 0).
 *
 * @example
 * ```ts
 * import { guixPrivateKeyFromScalar } from "./guix_key.ts";
 * guixPrivateKeyFromScalar(0x5A7DCE66E15EFD70001CE95051D830DE08E222B7F2B28C2C877E3D4278D03150n)
 *   .publicKey.shortHex; // "1F96A0…DB0E"
 * ```
 */
export function guixPrivateKeyFromScalar(d: bigint): GuixPrivateKey {
  if (d <= 0n || d >= 1n << 256n) throw new GuixKeyError(`d out of range: ${d}`);
  const q = encodePoint(publicPointFromSecret(d));
  const sexp = list(
    "private-key",
    list("ecc", list("curve", GUIX_CURVE), list("q", q), list("d", bigIntToMinimalBytes(d))),
  );
  return parseGuixPrivateKey(sexp);
}

/**
 * Generates a key as `guix archive --generate-key` does (libgcrypt's
 * `(genkey (ecdsa (curve Ed25519) (flags rfc6979)))`): 256 random bits with
 * bit 255 cleared, bit 254 set and bits 0–2 cleared.
 *
 * @example
 * ```ts
 * import { generateGuixKey } from "./guix_key.ts";
 * const key = generateGuixKey();
 * key.d >> 254n; // 1n
 * ```
 */
export function generateGuixKey(
  randomBytes: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
): GuixPrivateKey {
  const bytes = randomBytes(32);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  bytes[31] = bytes[31]! & 0xf8;
  return guixPrivateKeyFromScalar(bytesToBigInt(bytes));
}
