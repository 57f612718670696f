import { assertEquals } from "@std/assert";
import type { PeerId, PeerInfo } from "@libp2p/interface";
import { hexEncode } from "../../encoding/hex.ts";
import { narHashOfCid } from "../content_key.ts";
import type { P2pNode } from "../node.ts";
import { PeerBook } from "../peer_book.ts";
import { BLOCKS_PROTOCOL, type HaveState } from "../wire/mod.ts";
import { Availability } from "./availability.ts";
import type { PeerLinks } from "./links.ts";

const id = (name: string) =>
  ({ toString: () => name, equals: (o: PeerId) => o.toString() === name }) as unknown as PeerId;
const hash = (n: number) => new Uint8Array(32).fill(n);

/** A node with `connected` peers whose links answer HAVE from `holds`, and a DHT. */
function world(options: {
  connected: string[];
  holds: Record<string, number[]>;
  dht?: Record<number, string[]>;
  dhtPeers?: number;
  silent?: string[];
  refusing?: string[];
}) {
  const haves: { peer: string; count: number }[] = [];
  const opens: string[] = [];
  const dhtAsked: number[] = [];
  const node = {
    peerId: id("self"),
    getConnections: () => options.connected.map((p) => ({ remotePeer: id(p) })),
    peerStore: {
      get: () => Promise.resolve({ protocols: [BLOCKS_PROTOCOL] }),
      merge: () => Promise.resolve(),
    },
    services: { dht: { routingTable: { size: options.dhtPeers ?? 0 } } },
    contentRouting: {
      async *findProviders(cid: Parameters<typeof narHashOfCid>[0]): AsyncGenerator<PeerInfo> {
        const n = narHashOfCid(cid)![0]!;
        dhtAsked.push(n);
        for (const p of options.dht?.[n] ?? []) yield { id: id(p), multiaddrs: [] };
      },
    },
  } as unknown as P2pNode;
  const links = {
    get: (peerId: PeerId) => {
      opens.push(peerId.toString());
      if (options.refusing?.includes(peerId.toString())) {
        return Promise.reject(new Error("protocol selection failed"));
      }
      return Promise.resolve({
        have(narHashes: Uint8Array[], timeoutMs: number): Promise<HaveState[]> {
          const peer = peerId.toString();
          haves.push({ peer, count: narHashes.length });
          if (options.silent?.includes(peer)) {
            return new Promise((_, reject) =>
              setTimeout(() => reject(new Error("t/o")), timeoutMs)
            );
          }
          return Promise.resolve(
            narHashes.map((h) => (options.holds[peer] ?? []).includes(h[0]!) ? "complete" : "none"),
          );
        },
      });
    },
  } as unknown as PeerLinks;
  let now = 1_000_000;
  const availability = new Availability({
    node: () => node,
    links,
    peerBook: new PeerBook({ banThreshold: 3, banDurationMs: 60_000, maxPeers: 16 }),
    minProviders: 1,
    discoveryTimeout: 1,
    haveTimeoutMs: 50,
    now: () => now,
  });
  return { availability, haves, opens, dhtAsked, advance: (ms: number) => (now += ms) };
}

const targets = (...ns: number[]) => ns.map((n) => ({ narHash: hash(n), narSize: 1000 }));
const peersOf = (m: Map<string, { peer: string }[]>, n: number) =>
  (m.get(hexEncode(hash(n))) ?? []).map((p) => p.peer);

Deno.test("no peers at all: every item has no provider, at once, and the DHT is not walked", async () => {
  const w = world({ connected: [], holds: {} });
  const t0 = performance.now();
  const found = await w.availability.query(targets(1, 2, 3), { dht: true });
  assertEquals([1, 2, 3].map((n) => peersOf(found, n)), [[], [], []]);
  assertEquals(w.dhtAsked, []);
  assertEquals(performance.now() - t0 < 50, true);
});

Deno.test("connected peers are asked once per batch; the DHT only for what none of them has", async () => {
  const w = world({
    connected: ["a", "b"],
    holds: { a: [1, 2], b: [2] },
    dht: { 3: ["far"] },
    dhtPeers: 5,
  });
  const found = await w.availability.query(targets(1, 2, 3), { dht: true });
  assertEquals(peersOf(found, 1), ["a"]);
  assertEquals(peersOf(found, 2).sort(), ["a", "b"]);
  assertEquals(peersOf(found, 3), ["far"]);
  assertEquals(w.haves, [{ peer: "a", count: 3 }, { peer: "b", count: 3 }]);
  assertEquals(w.dhtAsked, [3]);
  // Fresh answers are reused: the substitutions that follow cost no round trip.
  await w.availability.query(targets(1, 2, 3), { dht: true });
  assertEquals(w.haves.length, 2);
  assertEquals(w.dhtAsked, [3]);
  assertEquals(w.availability.known(hash(1)).map((p) => p.via), ["connected"]);
  // Negative answers expire sooner than positive ones.
  w.advance(31_000);
  await w.availability.query(targets(1, 3), { dht: false });
  assertEquals(w.haves.slice(2), [{ peer: "a", count: 1 }, { peer: "b", count: 2 }]);
});

Deno.test("a peer that does not answer HAVE is skipped for a while, not waited for again", async () => {
  const w = world({ connected: ["mute", "a"], holds: { a: [1] }, silent: ["mute"] });
  const found = await w.availability.query(targets(1), { dht: false });
  assertEquals(peersOf(found, 1), ["a"]);
  await w.availability.query(targets(2), { dht: false });
  assertEquals(w.haves.filter((h) => h.peer === "mute").length, 1);
});

Deno.test("a disconnected peer's answers are forgotten; forget() drops one provider", async () => {
  const w = world({ connected: ["a", "b"], holds: { a: [1], b: [1] } });
  await w.availability.query(targets(1), { dht: false });
  w.availability.peerGone("a");
  assertEquals(w.availability.known(hash(1)).map((p) => p.peer), ["b"]);
  w.availability.forget(hash(1), "b");
  assertEquals(w.availability.known(hash(1)), []);
});

Deno.test("a connected peer whose stream cannot be opened is skipped for a while too", async () => {
  const w = world({ connected: ["refuses", "a"], holds: { a: [1, 2] }, refusing: ["refuses"] });
  assertEquals(peersOf(await w.availability.query(targets(1), { dht: false }), 1), ["a"]);
  assertEquals(peersOf(await w.availability.query(targets(2), { dht: false }), 2), ["a"]);
  assertEquals(w.opens.filter((p) => p === "refuses").length, 1);
  w.advance(61_000);
  w.availability.prune();
  await w.availability.query(targets(3), { dht: false });
  assertEquals(w.opens.filter((p) => p === "refuses").length, 2);
});
