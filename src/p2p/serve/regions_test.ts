import { assert, assertEquals } from "@std/assert";
import {
  assignPeers,
  type Candidate,
  closestCandidates,
  compareXor,
  groupByRegion,
  kadIdOf,
  keyspacePosition,
  middleKey,
  prefixOf,
  regionBits,
  sizeFromClosest,
} from "./regions.ts";

/** A seeded generator (mulberry32), so every run sees the same "random" IDs. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function ids(n: number, seed: number): Uint8Array[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const b = new Uint8Array(32);
    for (let i = 0; i < 32; i++) b[i] = Math.floor(r() * 256);
    return b;
  });
}

function keys(n: number, seed: number) {
  return ids(n, seed).map((multihash) => ({ multihash, kadId: kadIdOf(multihash) }));
}

Deno.test("prefixOf and keyspacePosition read the kad ID's leading bits", () => {
  const id = new Uint8Array(32);
  id.set([0b1011_0000, 0xff, 0x00, 0x01]);
  assertEquals(prefixOf(id, 0), 0);
  assertEquals(prefixOf(id, 1), 1);
  assertEquals(prefixOf(id, 4), 0b1011);
  assertEquals(prefixOf(id, 12), 0b1011_0000_1111);
  assertEquals(prefixOf(id, 32), 0xb0ff0001);
  assertEquals(keyspacePosition(id), 0xb0ff0001 / 2 ** 32);
  assertEquals(keyspacePosition(new Uint8Array(32)), 0);
});

Deno.test("regionBits leaves at least `replication` peers in a region", () => {
  assertEquals(regionBits(1), 0);
  assertEquals(regionBits(20), 0);
  assertEquals(regionBits(39), 0);
  assertEquals(regionBits(40), 1);
  assertEquals(regionBits(1000), 5); // 32 regions of ~31 peers
  assertEquals(regionBits(10_000), 8); // 256 regions of ~39 peers
  assertEquals(regionBits(1e12), 24);
  for (const n of [25, 100, 999, 5000, 123_456]) {
    const b = regionBits(n);
    assert(n / 2 ** b >= 20 && n / 2 ** b < 40, `${n}: ${b}`);
  }
});

Deno.test("sizeFromClosest estimates the network size from one lookup's 20 closest peers", () => {
  for (const n of [200, 2000, 20_000]) {
    const peers = ids(n, n);
    const estimates = keys(41, 7).map((k) => {
      const closest = [...peers].sort((a, b) => compareXor(a, b, k.kadId)).slice(0, 20);
      return sizeFromClosest(k.kadId, closest)!;
    }).sort((a, b) => a - b);
    const median = estimates[20]!;
    // One lookup is a noisy estimate (±25 %); the median of many is close.
    assert(median > 0.8 * n && median < 1.25 * n, `${n}: median estimate ${median}`);
  }
  assertEquals(sizeFromClosest(new Uint8Array(32), [new Uint8Array(32)]), undefined);
});

Deno.test("groupByRegion puts keys with the same prefix together, regions in keyspace order", () => {
  const ks = keys(500, 1);
  const groups = groupByRegion(ks, 4);
  assertEquals([...groups.keys()], [...groups.keys()].sort((a, b) => a - b));
  assertEquals([...groups.values()].reduce((n, g) => n + g.length, 0), 500);
  for (const [region, g] of groups) for (const k of g) assertEquals(prefixOf(k.kadId, 4), region);
  assertEquals([...groupByRegion(ks, 0).keys()], [0]);
});

Deno.test("middleKey is the median key in keyspace order", () => {
  const ks = keys(7, 2);
  const sorted = [...ks].sort((a, b) => keyspacePosition(a.kadId) - keyspacePosition(b.kadId));
  assertEquals(middleKey(ks), sorted[3]);
});

Deno.test("assignPeers sends every key to exactly its `replication` XOR-closest candidates", () => {
  const candidates: Candidate[] = ids(300, 3).map((kadId, i) => ({ peer: `p${i}`, kadId }));
  const ks = keys(50, 4);
  const byPeer = assignPeers(ks, [...candidates, candidates[0]!], 20);
  for (const k of ks) {
    const want = [...candidates].sort((a, b) => compareXor(a.kadId, b.kadId, k.kadId))
      .slice(0, 20).map((c) => c.peer).sort();
    const got = [...byPeer].filter(([, list]) => list.includes(k)).map(([p]) => p).sort();
    assertEquals(got, want);
  }
  assertEquals(closestCandidates(ks[0]!.kadId, [candidates[0]!, candidates[0]!], 5).length, 1);
});
