import { assertEquals } from "@std/assert";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import type { PeerId } from "@libp2p/interface";
import { base32 } from "multiformats/bases/base32";
import { compareDistance, kadIdOfPeer, responsibleFor } from "./responsible.ts";
import { createHash } from "node:crypto";

async function peers(n: number): Promise<PeerId[]> {
  return await Promise.all(
    Array.from({ length: n }, async () => peerIdFromPrivateKey(await generateKeyPair("Ed25519"))),
  );
}

Deno.test("responsibleFor: we hold a key's records only when fewer than `closest` known peers are closer", async () => {
  const [self, ...table] = await peers(30);
  const key = new Uint8Array(34);
  key[0] = 0x12;
  key[1] = 0x20;
  crypto.getRandomValues(key.subarray(2));
  const target = new Uint8Array(createHash("sha256").update(key).digest());
  const byDistance = [...table].sort((a, b) =>
    compareDistance(kadIdOfPeer(a), kadIdOfPeer(b), target)
  );
  const closerThanSelf =
    byDistance.filter((p) => compareDistance(kadIdOfPeer(p), kadIdOfPeer(self!), target) < 0)
      .length;
  const text = base32.baseEncode(key);
  for (const closest of [1, 5, 10, 29, 40]) {
    const rule = responsibleFor({
      self: self!,
      closestPeers: (_id, count) => byDistance.slice(0, count),
      closest,
    });
    assertEquals(rule(text), closerThanSelf < closest, `closest=${closest}`);
  }
  // A small swarm: every node is responsible for every key.
  const small = responsibleFor({ self: self!, closestPeers: () => table.slice(0, 3), closest: 40 });
  assertEquals(small(text), true);
  assertEquals(small("not base32!"), false);
});
