/**
 * Block compression on the wire (`block_compression`): compressible NAR
 * bytes travel zstd-compressed between hosts, but not between peers on the
 * same host ("auto"), where compressing and decompressing only cost CPU.
 */
import { assertEquals, assertGreater, assertLess } from "@std/assert";
import { helperAgent } from "./support/daemon_proc.ts";
import { p2pWorld } from "./support/p2p_world.ts";
import { seedCopy, startSwarm, type SwarmNode, waitForDht } from "./support/swarm.ts";
import { assertRestored } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

interface PeerRow {
  peerId: string;
  bytesDown: number;
}

for (const mode of ["always", "auto"] as const) {
  Deno.test(
    `block_compression = "${mode}": what crosses the wire for a compressible item`,
    T,
    async () => {
      await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-comp-" }));
      const leecherStore = `${world.root}/n1/store`;
      const src = `${world.root}/src`;
      await Deno.mkdir(`${src}/share`, { recursive: true });
      // 6 MB of text: several blocks, well past the whole-NAR limit.
      await Deno.writeTextFile(
        `${src}/share/manual.txt`,
        Array.from({ length: 120_000 }, (_, i) => `line ${i}: guix substitutes from peers\n`).join(
          "",
        ),
      );
      const item = await world.item(src, "doc-1.0", leecherStore);
      await using swarm = await startSwarm(
        world.root,
        2,
        (i) => i === 1 ? world.leecherSettings(leecherStore) : { block_compression: mode },
      );
      const [seeder, leecher] = swarm as unknown as SwarmNode[];
      await seedCopy(seeder!, item.source, item.baseName);
      await waitForDht(leecher!, 1);
      await using s = helperAgent("substitute", leecher!.daemon, leecherStore);
      const out = await s.substitute(item.storePath, item.storePath, 120_000);
      assertEquals(out.status, `success ${item.narHash} ${item.narSize}`);
      await assertRestored(item.storePath, item.narHash);
      const rows = await leecher!.json<PeerRow[]>(["peers"]);
      const wire = rows.find((p) => p.peerId === seeder!.peerId)?.bytesDown ?? 0;
      if (mode === "always") {
        assertLess(wire, item.narSize / 4, `zstd on the wire: ${wire} of ${item.narSize}`);
      } else {
        // Both daemons are on this host (127.0.0.1): the blocks go raw.
        assertGreater(wire, item.narSize - 1, `raw on loopback: ${wire} of ${item.narSize}`);
      }
    },
  );
}
