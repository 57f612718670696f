/**
 * A remote peer must not be able to make the daemon store DHT provider
 * records without bound (issue 10 item 2): one attacker process floods a real
 * daemon with ADD_PROVIDER for 100,000 random keys; the daemon keeps at most
 * its per-peer quota, refuses the rest, disconnects and penalises the
 * attacker, and still answers provider lookups for a real seeded item.
 * (Memory and latency figures: bench/p2p/dht_flood.ts, docs/benchmarks.md.)
 */
import { assert, assertEquals, assertGreater, assertLessOrEqual } from "@std/assert";
import { parseNarHash } from "../src/hash/nar_hash.ts";
import { narCid } from "../src/p2p/content_key.ts";
import { floodProviders, probeProviders } from "./support/dht_flood.ts";
import { randomBytes } from "./support/random.ts";
import { seedCopy, startSwarm } from "./support/swarm.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

interface Status {
  p2p: {
    dhtProviderRecords: { records: number; peers: number; refused: Record<string, number> } | null;
  };
}
interface PeerRow {
  peerId: string;
  connected: boolean;
  faults: number;
  banned: boolean;
}

Deno.test(
  "a peer flooding ADD_PROVIDER for 100,000 keys is capped, refused and disconnected; lookups still answer",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-dhtflood-" });
    try {
      const src = `${root}/src`;
      await Deno.mkdir(src);
      await Deno.writeFile(`${src}/blob`, randomBytes(64 * 1024));
      await using swarm = await startSwarm(root, 2);
      const [target, seeder] = swarm;
      await seedCopy(seeder!, src, "0a0b0c0d0f0g0h0i0j0k0l0m0n0p0q0r-victim-1.0");
      const [seed] = await seeder!.json<{ narHash: string }[]>(["seeds"]);
      const cid = narCid(parseNarHash(seed!.narHash)).toString();

      const flood = await floodProviders(target!.address, 100_000);
      const status = await target!.json<Status>(["status"]);
      assertEquals(
        flood.connected,
        false,
        `the attacker was disconnected: ${JSON.stringify(flood)}`,
      );
      assertGreater(flood.refusedDials, 0, `then refused (banned): ${JSON.stringify(flood)}`);
      const records = status.p2p?.dhtProviderRecords;
      assert(records, `status reports the provider-record store: ${JSON.stringify(status)}`);
      // Per-peer quota (10,000 by default) plus the seeder's own record.
      assertLessOrEqual(records.records, 10_001, JSON.stringify(records));
      assertGreater(records.refused.rate ?? 0, 0, JSON.stringify(records));
      const peers = await target!.json<PeerRow[]>(["peers"]);
      const attacker = peers.find((p) => p.peerId === flood.peerId);
      assertGreater(attacker?.faults ?? 0, 0, `attacker penalised: ${JSON.stringify(peers)}`);
      assertEquals(attacker?.banned, true, JSON.stringify(attacker));
      await target!.daemon.waitForLog(
        new RegExp(`peer ${flood.peerId} penalised and banned.*ADD_PROVIDER flood`),
        10_000,
      );

      const probe = await probeProviders(target!.address, cid);
      assertEquals(probe.providers, [seeder!.peerId], JSON.stringify(probe));
    } finally {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
);
