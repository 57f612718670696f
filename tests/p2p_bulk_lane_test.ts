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
    for (const item of [small, big]) {
      const out = await s.substitute(item.storePath, item.storePath, 120_000);
      assertEquals(out.status, `success ${item.narHash} ${item.narSize}`);
      await assertRestored(item.storePath, item.narHash);
    }
    const status = await leecher!.json<{ p2p: { nat: { bytesIn: { bulk?: number } } } }>([
      "status",
    ]);
    const bulk = status.p2p.nat.bytesIn.bulk ?? 0;
    if (c.bulk) {
      assertGreater(bulk, big.narSize + small.narSize - 1, `on the bulk lane: ${bulk} bytes`);
    } else assertEquals(bulk, 0);
  });
}
