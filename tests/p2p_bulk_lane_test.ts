/**
 * The bulk lane (`bulk_lane`, docs/protocol.md §3.5): between peers on the
 * local network block data goes over a plain TCP connection opened with a
 * ticket from the Noise stream — and when either side turns it off, over the
 * encrypted stream as before. Either way every byte is checked and the item
 * restored.
 */
import { assertEquals, assertGreater } from "@std/assert";
import { helperAgent } from "./support/daemon_proc.ts";
import { p2pWorld } from "./support/p2p_world.ts";
import { seedCopy, startSwarm, type SwarmNode, waitForDht } from "./support/swarm.ts";
import { assertRestored } from "./support/tree_check.ts";
import { incompressibleTree } from "./support/tree_gen.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

const cases = [
  { name: "on at both ends (the default on a LAN)", seeder: {}, leecher: {}, bulk: true },
  { name: "off at the seeder", seeder: { bulk_lane: "off" }, leecher: {}, bulk: false },
  { name: "off at the leecher", seeder: {}, leecher: { bulk_lane: "off" }, bulk: false },
] as const;

for (const c of cases) {
  Deno.test(`bulk lane ${c.name}: a large and a small item arrive verified`, T, async () => {
    await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-bulk-" }));
    const store = `${world.root}/n1/store`;
    // One item past the whole-NAR limit (blocks, a swarm download), one small (a whole NAR).
    const big = await world.item(
      await incompressibleTree(`${world.root}/big`, 9 << 20),
      "big-1.0",
      store,
    );
    const small = await world.item(
      await incompressibleTree(`${world.root}/small`, 200_000),
      "small-1.0",
      store,
    );
    await using swarm = await startSwarm(
      world.root,
      2,
      (i) => i === 1 ? { ...world.leecherSettings(store), ...c.leecher } : { ...c.seeder },
    );
    const [seeder, leecher] = swarm as unknown as SwarmNode[];
    await seedCopy(seeder!, big.source, big.baseName);
    await seedCopy(seeder!, small.source, small.baseName);
    await waitForDht(leecher!, 1);
    await using s = helperAgent("substitute", leecher!.daemon, store);
    const bulkBytes = async () =>
      (await leecher!.json<{ p2p: { nat: { bytesIn: { bulk?: number } } } }>(["status"]))
        .p2p.nat.bytesIn.bulk ?? 0;
    const lane = async () =>
      (await leecher!.json<{ peerId: string; bulkLane: { state: string } | null }[]>(["peers"]))
        .find((p) => p.peerId === seeder!.peerId)?.bulkLane?.state;
    // The small item opens the link to the seeder (its first requests may go on the encrypted
    // stream while the lane opens, a round trip later).
    let out = await s.substitute(small.storePath, small.storePath, 120_000);
    assertEquals(out.status, `success ${small.narHash} ${small.narSize}`);
    await assertRestored(small.storePath, small.narHash);
    // Opening the lane is a round trip and a TCP connect after the link: wait (bounded) for it.
    const deadline = Date.now() + 15_000;
    let state = await lane();
    while (state === "opening" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      state = await lane();
    }
    const before = await bulkBytes();
    out = await s.substitute(big.storePath, big.storePath, 120_000);
    assertEquals(out.status, `success ${big.narHash} ${big.narSize}`);
    await assertRestored(big.storePath, big.narHash);
    const bulk = await bulkBytes() - before;
    if (c.bulk) {
      assertEquals(state, "open");
      assertGreater(bulk, big.narSize - 1, `the large item on the bulk lane: ${bulk} bytes`);
    } else {
      // Refused by the seeder (asked, answered "not available"), or never asked by the leecher.
      assertEquals(state, "bulk_lane" in c.seeder ? "closed" : "none");
      assertEquals(await bulkBytes(), 0);
    }
  });
}
