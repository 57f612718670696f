/**
 * Keyspace regions for batched provider records ("sweep" reproviding).
 *
 * Kademlia stores a provider record on the `k` = 20 peers whose kad IDs are
 * XOR-closest to the key's kad ID (SHA-256 of the key's multihash bytes, as
 * kad-dht computes it). Keys that share a long enough prefix of their kad ID
 * have (nearly) the same closest peers: a region is the set of keys with the
 * same first `bits` bits, with `bits` chosen so that a region holds about
 * `k` to `2k` peers of the network. One lookup per region then finds the
 * peers for all its keys, instead of one lookup per key.
 *
 * Pure: no I/O.
 *
 * @example
 * ```ts
 * const bits = regionBits(10_000); // 8: 256 regions of ~39 peers
 * const groups = groupByRegion(keys, bits); // region prefix → keys
 * const byPeer = assignPeers(keys, candidates, 20); // peer → the keys it should hold
 * ```
 * @module
 */
import { createHash } from "node:crypto";

/** Kademlia's replication: a record goes to the 20 closest peers (kad-dht's `k`). */
export const REPLICATION = 20;

/** The most prefix bits a region is cut to (2^24 regions: far beyond any real swarm). */
export const MAX_REGION_BITS = 24;

/** A key as the sweep handles it. */
export interface RegionKey {
  /** The multihash bytes kad-dht's ADD_PROVIDER and GET_PROVIDERS carry. */
  multihash: Uint8Array;
  /** SHA-256 of `multihash`: where the key lives in the keyspace. */
  kadId: Uint8Array;
}

/** A peer that may hold records: its PeerId text and kad ID. */
export interface Candidate {
  peer: string;
  kadId: Uint8Array;
}

/** The kad ID of a key or a PeerId (SHA-256 of its multihash bytes). */
export function kadIdOf(multihash: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(multihash).digest());
}

/** The first `bits` bits (0 to 32) of a kad ID, as a number. */
export function prefixOf(kadId: Uint8Array, bits: number): number {
  if (bits <= 0) return 0;
  const top = ((kadId[0]! << 24) | (kadId[1]! << 16) | (kadId[2]! << 8) | kadId[3]!) >>> 0;
  return Math.floor(top / 2 ** (32 - bits));
}

/** Where a kad ID lies in the keyspace, as a fraction in [0, 1) (its first 32 bits). */
export function keyspacePosition(kadId: Uint8Array): number {
  return prefixOf(kadId, 32) / 2 ** 32;
}

/**
 * Prefix bits of a region for a network of `size` DHT servers: the most bits
 * that still leave at least `replication` peers in a region (`size / 2^bits
 * ≥ replication`), 0 for a network of at most `replication` peers.
 */
export function regionBits(size: number, replication = REPLICATION): number {
  if (!(size > replication)) return 0;
  return Math.min(MAX_REGION_BITS, Math.floor(Math.log2(size / replication)));
}

/**
 * An estimate of the number of DHT servers from a lookup: the `n` peers
 * closest to `target` (kad IDs, any order). If `N` kad IDs are uniform, the
 * n-th smallest XOR distance `d` (as a fraction of the keyspace) has
 * E[1/d] = N/(n−1), so N ≈ (n−1)/d. Undefined with fewer than 2 peers.
 */
export function sizeFromClosest(target: Uint8Array, closest: Uint8Array[]): number | undefined {
  if (closest.length < 2) return undefined;
  const fractions = closest.map((id) => distanceFraction(id, target)).sort((a, b) => a - b);
  const d = fractions[fractions.length - 1]!;
  if (!(d > 0)) return undefined;
  return (fractions.length - 1) / d;
}

/** The XOR distance of two kad IDs as a fraction of the keyspace (first 52 bits). */
export function distanceFraction(a: Uint8Array, b: Uint8Array): number {
  let f = 0;
  let scale = 1 / 256;
  for (let i = 0; i < 7; i++) {
    f += ((a[i]! ^ b[i]!) & (i === 6 ? 0xf0 : 0xff)) * scale;
    scale /= 256;
  }
  return f;
}

/** Negative when `a` is XOR-closer to `target` than `b`, positive when farther, 0 when equal. */
export function compareXor(a: Uint8Array, b: Uint8Array, target: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const da = a[i]! ^ target[i]!;
    const db = b[i]! ^ target[i]!;
    if (da !== db) return da - db;
  }
  return 0;
}

/** Keys grouped by region (the first `bits` bits of their kad ID), regions in keyspace order. */
export function groupByRegion<T extends RegionKey>(
  keys: Iterable<T>,
  bits: number,
): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const k of keys) {
    const r = prefixOf(k.kadId, bits);
    let g = groups.get(r);
    if (!g) groups.set(r, g = []);
    g.push(k);
  }
  return new Map([...groups].sort((a, b) => a[0] - b[0]));
}

/** The key in the middle of a region's keys (in keyspace order): the region's lookup target. */
export function middleKey<T extends RegionKey>(keys: T[]): T {
  if (keys.length === 0) throw new RangeError("middleKey: no keys");
  const sorted = [...keys].sort((a, b) => compareBytes(a.kadId, b.kadId));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** The `count` candidates XOR-closest to `kadId`, closest first (duplicates by peer ignored). */
export function closestCandidates(
  kadId: Uint8Array,
  candidates: readonly Candidate[],
  count: number,
): Candidate[] {
  const seen = new Set<string>();
  const unique = candidates.filter((c) => !seen.has(c.peer) && seen.add(c.peer));
  return unique.sort((a, b) => compareXor(a.kadId, b.kadId, kadId)).slice(0, count);
}

/**
 * Which peer should hold which keys: every key goes to its `replication`
 * XOR-closest candidates. Returns peer → its keys (in the order given).
 */
export function assignPeers<T extends RegionKey>(
  keys: readonly T[],
  candidates: readonly Candidate[],
  replication = REPLICATION,
): Map<string, T[]> {
  const byPeer = new Map<string, T[]>();
  for (const key of keys) {
    for (const c of closestCandidates(key.kadId, candidates, replication)) {
      let list = byPeer.get(c.peer);
      if (!list) byPeer.set(c.peer, list = []);
      list.push(key);
    }
  }
  return byPeer;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
