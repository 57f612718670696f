/**
 * Nix signing keys: `<name>:<base64>`, the secret key being libsodium's 64
 * bytes seed ‖ public key and the public key 32 bytes (../shared/docs/nix-binary-cache.md
 * §4.1). Ed25519 is plain RFC 8032 here.
 *
 * @example
 * ```ts
 * import { generateNixSecretKey, parseNixPublicKey } from "./nix_key.ts";
 * const secret = generateNixSecretKey("cache-1");
 * const pub = parseNixPublicKey(secret.publicKey.format()); // "cache-1:<base64>"
 * pub.name; // "cache-1"
 * ```
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { base64Decode, base64Encode } from "../encoding/base64.ts";
import { EncodingError } from "../encoding/errors.ts";
import { NixKeyError } from "./errors.ts";

/** A Nix public key. */
export interface NixPublicKey {
  /** The key name (the part before `:`). */
  readonly name: string;
  /** The 32-byte Ed25519 public key. */
  readonly key: Uint8Array;
  /** `<name>:<base64>`, as in `trusted-public-keys`. */
  format(): string;
}

/** A Nix secret key. */
export interface NixSecretKey {
  /** The key name. */
  readonly name: string;
  /** The 32-byte Ed25519 seed. */
  readonly seed: Uint8Array;
  /** The public half. */
  readonly publicKey: NixPublicKey;
  /** `<name>:<base64 of seed ‖ public key>`, as `nix key generate-secret` writes it. */
  format(): string;
}

const NAME = /^[^\s:]+$/;

function split(text: string, what: string): [string, Uint8Array] {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(":");
  if (colon < 0) {
    throw new NixKeyError(`${what}: expected "<name>:<base64>", no ":" in ${clip(trimmed)}`);
  }
  const name = trimmed.slice(0, colon);
  if (!NAME.test(name)) throw new NixKeyError(`${what}: invalid key name ${JSON.stringify(name)}`);
  try {
    return [name, base64Decode(trimmed.slice(colon + 1))];
  } catch (e) {
    if (e instanceof EncodingError) throw new NixKeyError(`${what} "${name}": ${e.message}`);
    throw e;
  }
}

function clip(text: string): string {
  return JSON.stringify(text.length > 40 ? text.slice(0, 37) + "..." : text);
}

/**
 * Makes a public key from its name and 32 bytes.
 *
 * @example
 * ```ts
 * import { nixPublicKey } from "./nix_key.ts";
 * nixPublicKey("k", new Uint8Array(32)).format(); // "k:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
 * ```
 */
export function nixPublicKey(name: string, key: Uint8Array): NixPublicKey {
  if (!NAME.test(name)) throw new NixKeyError(`invalid key name ${JSON.stringify(name)}`);
  if (key.length !== 32) {
    throw new NixKeyError(`public key "${name}" is ${key.length} bytes, expected 32`);
  }
  return { name, key, format: () => `${name}:${base64Encode(key)}` };
}

/**
 * Parses `<name>:<base64 of 32 bytes>`.
 *
 * @example
 * ```ts
 * import { parseNixPublicKey } from "./nix_key.ts";
 * parseNixPublicKey("test-1:VPWKW6Qrw5bsNsswfvvvc+JbHMzmCt5wI/IUUgBdKZ8=").name; // "test-1"
 * ```
 * @throws {NixKeyError} naming the problem.
 */
export function parseNixPublicKey(text: string): NixPublicKey {
  const [name, bytes] = split(text, "public key");
  return nixPublicKey(name, bytes);
}

/**
 * Makes a secret key from its name and 32-byte seed.
 *
 * @example
 * ```ts
 * import { nixSecretKeyFromSeed } from "./nix_key.ts";
 * nixSecretKeyFromSeed("k", new Uint8Array(32)).publicKey.key.length; // 32
 * ```
 */
export function nixSecretKeyFromSeed(name: string, seed: Uint8Array): NixSecretKey {
  if (seed.length !== 32) {
    throw new NixKeyError(`seed of "${name}" is ${seed.length} bytes, expected 32`);
  }
  const publicKey = nixPublicKey(name, ed25519.getPublicKey(seed));
  const full = new Uint8Array(64);
  full.set(seed);
  full.set(publicKey.key, 32);
  return { name, seed, publicKey, format: () => `${name}:${base64Encode(full)}` };
}

/**
 * Parses a secret key file's content `<name>:<base64 of 64 bytes>` and checks
 * that its public half is the one its seed derives.
 *
 * @example
 * ```ts
 * import { generateNixSecretKey, parseNixSecretKey } from "./nix_key.ts";
 * parseNixSecretKey(generateNixSecretKey("k").format()).name; // "k"
 * ```
 * @throws {NixKeyError} naming the problem.
 */
export function parseNixSecretKey(text: string): NixSecretKey {
  const [name, bytes] = split(text, "secret key");
  if (bytes.length !== 64) {
    throw new NixKeyError(`secret key "${name}" is ${bytes.length} bytes, expected 64`);
  }
  const key = nixSecretKeyFromSeed(name, bytes.slice(0, 32));
  if (!key.publicKey.key.every((b, i) => b === bytes[32 + i])) {
    throw new NixKeyError(`secret key "${name}": its public half does not match its seed`);
  }
  return key;
}

/**
 * A fresh random secret key, like `nix key generate-secret --key-name NAME`.
 *
 * @example
 * ```ts
 * import { generateNixSecretKey } from "./nix_key.ts";
 * generateNixSecretKey("cache-1").format().startsWith("cache-1:"); // true
 * ```
 */
export function generateNixSecretKey(name: string): NixSecretKey {
  return nixSecretKeyFromSeed(name, crypto.getRandomValues(new Uint8Array(32)));
}
