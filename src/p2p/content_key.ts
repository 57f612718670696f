/**
 * The DHT key of a NAR (docs/protocol.md §2.1): CIDv1, codec `raw` (0x55),
 * sha2-256 multihash of the NarHash digest — "these exact NAR bytes".
 *
 * @example
 * ```ts
 * import { narCid } from "./content_key.ts";
 * narCid(new Uint8Array(32)).toString(); // "bafkrei…"
 * ```
 * @module
 */
import { CID } from "multiformats/cid";
import { create as createDigest } from "multiformats/hashes/digest";

const RAW = 0x55;
const SHA2_256 = 0x12;

/** The CID that names the NAR whose SHA-256 is `narHash` (32 bytes). */
export function narCid(narHash: Uint8Array): CID {
  if (narHash.length !== 32) {
    throw new Error(`NarHash digest must be 32 bytes, got ${narHash.length}`);
  }
  return CID.createV1(RAW, createDigest(SHA2_256, narHash));
}

/** The NarHash digest named by a CID, or undefined if it is not a raw/sha2-256 CIDv1. */
export function narHashOfCid(cid: CID): Uint8Array | undefined {
  if (cid.version !== 1 || cid.code !== RAW || cid.multihash.code !== SHA2_256) return undefined;
  return cid.multihash.digest.length === 32 ? cid.multihash.digest : undefined;
}
