/**
 * The simulated population: N peers with Ed25519 PeerIds (random public keys
 * from the seeded generator: nothing in the simulation signs), their kad IDs
 * (SHA-256 of the PeerId multihash, as kad-dht computes them) and addresses;
 * and NAR keys (the DHT key of a random NarHash).
 *
 * @example
 * ```ts
 * const peers = population(1000, mulberry32(1));
 * const key = narKey(mulberry32(2));
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { publicKeyFromRaw } from "@libp2p/crypto/keys";
import type { PeerId } from "@libp2p/interface";
import { peerIdFromPublicKey } from "@libp2p/peer-id";
import type { Multiaddr } from "@multiformats/multiaddr";
import { narCid } from "../../src/p2p/content_key.ts";
import { peerKey, simAddrs } from "./_real_dht.ts";

/** One simulated peer. */
export interface SimPeer {
  index: number;
  peerId: PeerId;
  /** Interning key (the PeerId multihash bytes as a string). */
  key: string;
  /** SHA-256 of the PeerId multihash. */
  kadId: Uint8Array;
  addrs: Multiaddr[];
}

/** One NAR key: the NarHash, the multihash kad-dht sends, and its kad ID. */
export interface SimKey {
  narHash: Uint8Array;
  /** The CID's multihash bytes (what ADD_PROVIDER and GET_PROVIDERS carry). */
  multihash: Uint8Array;
  kadId: Uint8Array;
}

/** `n` peers from the seeded generator `rand`. */
export function population(n: number, rand: () => number): SimPeer[] {
  const out: SimPeer[] = [];
  for (let i = 0; i < n; i++) {
    const peerId = peerIdFromPublicKey(publicKeyFromRaw(bytes(32, rand)));
    out.push({
      index: i,
      peerId,
      key: peerKey(peerId),
      kadId: sha256(peerId.toMultihash().bytes),
      addrs: simAddrs(i),
    });
  }
  return out;
}

/** A random NAR key. */
export function narKey(rand: () => number): SimKey {
  const narHash = bytes(32, rand);
  const multihash = narCid(narHash).multihash.bytes;
  return { narHash, multihash, kadId: sha256(multihash) };
}

/** `n` bytes from `rand`. */
export function bytes(n: number, rand: () => number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/** SHA-256. */
export function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(b).digest());
}
