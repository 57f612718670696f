/**
 * The DHT key of a store path's narinfo (docs/protocol.md §6.4): CIDv1, codec
 * `raw` (0x55), sha2-256 multihash of `SHA-256("guix-p2p-narinfo:" + hash part)`.
 * The prefix keeps narinfo keys apart from NAR keys (§2.1), which hash NAR
 * bytes: a provider record under it says "I hold a signed narinfo of this
 * store path".
 *
 * @example
 * ```ts
 * import { narinfoCid } from "./key.ts";
 * narinfoCid("0ad3jr1jlg1p2sfxbqcyvgmr3bf5mcrc").toString(); // "bafkrei…"
 * ```
 * @module
 */
import { CID } from "multiformats/cid";
import { create as createDigest } from "multiformats/hashes/digest";
import { isNix32 } from "../../encoding/nix32.ts";
import { sha256 } from "../../hash/sha256.ts";

const RAW = 0x55;
const SHA2_256 = 0x12;

/** The text hashed into a narinfo key. */
export const NARINFO_KEY_PREFIX = "guix-p2p-narinfo:";

/** The CID under which holders of `hashPart`'s narinfo are announced. */
export function narinfoCid(hashPart: string): CID {
  if (hashPart.length !== 32 || !isNix32(hashPart)) {
    throw new Error(`"${hashPart}" is not a store-path hash part`);
  }
  const digest = sha256(new TextEncoder().encode(NARINFO_KEY_PREFIX + hashPart));
  return CID.createV1(RAW, createDigest(SHA2_256, digest));
}
