/**
 * The P2P swarm end to end: separate daemon processes on 127.0.0.1 that know
 * only a bootstrap address; items found through the DHT, moved as verified
 * blocks from several peers, substituted through the guix-daemon emulator.
 */
import { assertEquals, assertGreater } from "@std/assert";
import { helperAgent } from "./support/daemon_proc.ts";
import { p2pWorld } from "./support/p2p_world.ts";
import { randomBytes } from "./support/random.ts";
import { seedCopy, startSwarm, waitForDht } from "./support/swarm.ts";
import { assertRestored } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

interface PeerRow {
  peerId: string;
  connected: boolean;
  bytesDown: number;
  bytesUp: number;
  bulkLane: { state: string; bytesIn: number } | null;
}

Deno.test(
  "an item seeded on two of five daemons is substituted on a third from both, no NAR over HTTP",
  T,
  async () => {
    await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-swarm-" }));
    const { root, server } = world;
    const leecherStore = `${root}/n3/store`;
    const src = `${root}/src`;
    await Deno.mkdir(`${src}/lib`, { recursive: true });
    await Deno.writeFile(`${src}/lib/libbig.so`, randomBytes(6 * 1024 * 1024));
    await Deno.writeTextFile(`${src}/lib/notes.txt`, "compressible text\n".repeat(100_000));
    await Deno.symlink("lib/libbig.so", `${src}/link`);
    const item = await world.item(src, "big-1.0", leecherStore, { compressions: ["zstd"] });
    await using swarm = await startSwarm(
      root,
      5,
      (i) => i === 3 ? world.leecherSettings(leecherStore) : {},
    );
    const [, s1, s2, leecher] = swarm as unknown as [
      never,
      typeof swarm[0],
      typeof swarm[0],
      typeof swarm[0],
    ];
    for (const seeder of [s1, s2]) await seedCopy(seeder, item.source, item.baseName);
    await waitForDht(leecher, 2);
    // Both seeders connected before the closure is asked for: then the batch's HAVE reaches both
    // at once and both get a share. (A seeder found later, through the DHT, joins a download
    // already under way — on a bulk lane one seeder alone can send these 6 MB before then.)
    const deadline = Date.now() + 30_000;
    for (;;) {
      const rows = await leecher.json<PeerRow[]>(["peers"]);
      const up = (id: string) => rows.some((p) => p.peerId === id && p.connected);
      if (up(s1.peerId) && up(s2.peerId)) break;
      if (Date.now() > deadline) throw new Error("the leecher is not connected to both seeders");
      await new Promise((r) => setTimeout(r, 200));
    }
    await using q = helperAgent("query", leecher.daemon, leecherStore);
    assertEquals(
      await q.have([item.storePath]),
      [item.storePath],
      "p2p-only claims it: providers exist",
    );
    await using s = helperAgent("substitute", leecher.daemon, leecherStore, {
      "untrusted-print-extended-build-trace": "1",
    });
    const out = await s.substitute(item.storePath, item.storePath, 120_000);
    assertEquals(out.status, `success ${item.narHash} ${item.narSize}`);
    await assertRestored(item.storePath, item.narHash);
    assertEquals(
      server.log.filter((r) => r.path.includes("/nar/") && r.status === 200).length,
      0,
      "no NAR over HTTP",
    );
    const peers = await leecher.json<PeerRow[]>(["peers"]);
    for (const seeder of [s1, s2]) {
      const row = peers.find((p) => p.peerId === seeder.peerId);
      // Blocks kept (bytesDown), or blocks sent on its bulk lane that the other seeder had
      // already delivered (a seeder whose first window of requests comes back a moment late
      // on a fast LAN: the download asked both, both answered).
      assertGreater(
        (row?.bytesDown ?? 0) + (row?.bulkLane?.bytesIn ?? 0),
        0,
        `blocks came from ${seeder.name}: ${JSON.stringify(peers)}`,
      );
    }
    const started = s.log.filter((l) => l.startsWith("@ download-started"));
    assertGreater(started.filter((l) => l.includes(" p2p://")).length, 0, s.log.join("\n"));
    // The helper read the download's cache file itself (no copy through the socket).
    await leecher.daemon.waitForLog(/from p2p \S+ at byte 0 \(the helper reads the cache file/);
  },
);
