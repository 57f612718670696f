/**
 * Peers are never trusted: a peer serving bad blocks, one lying about the
 * manifest, one answering garbage, a seeder dying mid-transfer. The item must
 * still be substituted (from honest peers or HTTP), the culprits penalised,
 * and nothing unverified may reach DEST.
 */
import { assertEquals, assertGreater, assertMatch } from "@std/assert";
import { helperAgent } from "./support/daemon_proc.ts";
import { startEvilPeer } from "./support/evil.ts";
import { p2pWorld } from "./support/p2p_world.ts";
import { randomBytes } from "./support/random.ts";
import { seedCopy, startNode, startSwarm, type SwarmNode, waitForDht } from "./support/swarm.ts";
import { assertRestored } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

interface PeerRow {
  peerId: string;
  bytesDown: number;
  faults: number;
  banned: boolean;
}

/**
 * A fresh world holding the victim item (a random blob and some text, zstd
 * NAR published) for a leecher that is node `leecher` of the swarm.
 */
async function fixture(leecher: number, options: { size?: number; serveNars: boolean }) {
  const root = await Deno.makeTempDir({ prefix: "guix-p2p-adv-" });
  const world = await p2pWorld(root, { serveNars: options.serveNars });
  try {
    const src = `${root}/src`;
    await Deno.mkdir(src, { recursive: true });
    await Deno.writeFile(`${src}/blob`, randomBytes(options.size ?? 4 * 1024 * 1024));
    await Deno.writeTextFile(`${src}/README`, "text\n".repeat(20000));
    const leecherStore = `${root}/n${leecher}/store`;
    const item = await world.item(src, "victim-1.0", leecherStore, { compressions: ["zstd"] });
    return Object.assign(world, { item, src, leecherStore });
  } catch (e) {
    await world[Symbol.asyncDispose]();
    throw e;
  }
}

async function substitute(leecher: SwarmNode, storePath: string) {
  await using s = helperAgent("substitute", leecher.daemon, leecher.store, {
    "untrusted-print-extended-build-trace": "1",
  });
  const out = await s.substitute(storePath, storePath, 120_000);
  return { out, log: [...s.log] };
}

Deno.test(
  "a peer serving bad blocks is penalised; the item comes from the honest seeder",
  T,
  async () => {
    await using fx = await fixture(2, { serveNars: false });
    const { item, src, leecherStore } = fx;
    // The honest seeder serves on the encrypted stream like the bad peer (which has no bulk
    // lane): on a lane it would send every block before the bad peer's first answer arrives.
    await using swarm = await startSwarm(
      fx.root,
      3,
      (i) => i === 2 ? fx.leecherSettings(leecherStore) : { bulk_lane: "off" },
    );
    const [n0, honest, leecher] = swarm as unknown as SwarmNode[];
    // A neighbour of the leecher: asked first, like every connected peer.
    await using evil = await startEvilPeer("bad-blocks", n0!.address, src, 60_000, [
      leecher!.address,
    ]);
    await seedCopy(honest!, src, item.baseName);
    await waitForDht(leecher!, 2);
    const { out } = await substitute(leecher!, item.storePath);
    assertEquals(out.status, `success ${item.narHash} ${item.narSize}`);
    await assertRestored(item.storePath, item.narHash);
    const peers = await leecher!.json<PeerRow[]>(["peers"]);
    const bad = peers.find((p) => p.peerId === evil.peerId);
    assertGreater(bad?.faults ?? 0, 0, `the bad peer was penalised: ${JSON.stringify(peers)}`);
    assertGreater(peers.find((p) => p.peerId === honest!.peerId)?.bytesDown ?? 0, 0);
    await leecher!.daemon.waitForLog(new RegExp(`peer ${evil.peerId} penalised`));
  },
);

Deno.test(
  "a lying manifest is caught by the NarHash check; the download rewinds to HTTP",
  T,
  async () => {
    await using fx = await fixture(1, { serveNars: true });
    const { item, src, leecherStore } = fx;
    await using swarm = await startSwarm(
      fx.root,
      2,
      (i) => i === 1 ? fx.leecherSettings(leecherStore, "p2p-first") : {},
    );
    const [n0, leecher] = swarm as unknown as SwarmNode[];
    await using liar = await startEvilPeer("lying-manifest", n0!.address, src);
    await waitForDht(leecher!, 1);
    const { out, log } = await substitute(leecher!, item.storePath);
    assertEquals(out.status, `success ${item.narHash} ${item.narSize}`);
    await assertRestored(item.storePath, item.narHash);
    assertGreater(
      log.filter((l) => /^@ download-started \S+ p2p:\/\//.test(l)).length,
      0,
      log.join("\n"),
    );
    assertGreater(
      log.filter((l) => /^@ download-started \S+ http:\/\//.test(l)).length,
      0,
      log.join("\n"),
    );
    await leecher!.daemon.waitForLog(new RegExp(`peer ${liar.peerId} penalised.*lying manifest`));
    const rows = await leecher!.json<PeerRow[]>(["peers"]);
    assertGreater(
      rows.find((p) => p.peerId === liar.peerId)?.faults ?? 0,
      0,
    );
  },
);

Deno.test(
  "a peer answering garbage is dropped; HTTP takes over; the daemon keeps working",
  T,
  async () => {
    await using fx = await fixture(1, { size: 512 * 1024, serveNars: true });
    const { item, src, leecherStore } = fx;
    await using swarm = await startSwarm(
      fx.root,
      2,
      (i) => i === 1 ? fx.leecherSettings(leecherStore, "p2p-first") : {},
    );
    const [n0, leecher] = swarm as unknown as SwarmNode[];
    await using _garbage = await startEvilPeer("garbage", n0!.address, src);
    await waitForDht(leecher!, 1);
    const { out } = await substitute(leecher!, item.storePath);
    assertEquals(out.status, `success ${item.narHash} ${item.narSize}`);
    const status = await leecher!.json<{ pid: number }>(["status"]);
    assertEquals(status.pid, leecher!.daemon.child.pid);
  },
);

Deno.test(
  "a seeder killed mid-transfer: the download completes from the other seeder",
  T,
  async () => {
    await using fx = await fixture(3, { size: 6 * 1024 * 1024, serveNars: false });
    const { item, src, leecherStore } = fx;
    await using swarm = await startSwarm(
      fx.root,
      4,
      (i) => i === 3 ? fx.leecherSettings(leecherStore) : { max_upload_rate: "1MB/s" },
    );
    const [, s1, s2, leecher] = swarm as unknown as SwarmNode[];
    await seedCopy(s1!, src, item.baseName);
    await seedCopy(s2!, src, item.baseName);
    await waitForDht(leecher!, 2);
    const run = substitute(leecher!, item.storePath);
    await leecher!.daemon.waitForLog(new RegExp(`block \\d+ of \\S+ from ${s1!.peerId}`), 30_000);
    await s1!.daemon.kill();
    const { out } = await run;
    assertEquals(out.status, `success ${item.narHash} ${item.narSize}`);
    await assertRestored(item.storePath, item.narHash);
    assertMatch(leecher!.daemon.log.join("\n"), new RegExp(`dropped peer ${s1!.peerId}`));
  },
);

Deno.test(
  "a slow liar and an honest relay: only the liar is penalised, and every fetch completes",
  T,
  async () => {
    await using fx = await fixture(1, { serveNars: true, size: 6 * 1024 * 1024 });
    const { item, src, leecherStore } = fx;
    const settings = fx.leecherSettings(leecherStore, "p2p-first");
    await using swarm = await startSwarm(fx.root, 2, (i) => i === 1 ? settings : {});
    const [n0, d1] = swarm as unknown as SwarmNode[];
    // d2 substitutes the same narinfo (same store directory), into its own destination.
    const d2 = await startNode(
      "d2",
      `${fx.root}/d2`,
      { ...settings, store_dir: leecherStore },
      d1!.address,
    );
    try {
      // It serves a lying manifest, says it verified it, and holds its last block back 4 s.
      await using liar = await startEvilPeer("slow-lying-manifest", n0!.address, src, 60_000, [
        d1!.address,
        d2.address,
      ]);
      await waitForDht(d1!, 2);
      await waitForDht(d2, 2);
      await using s1 = helperAgent("substitute", d1!.daemon, leecherStore);
      const first = s1.substitute(item.storePath, item.storePath, 120_000);
      // d1 relays the lie while it waits for the last block...
      await d1!.daemon.waitForLog(new RegExp(`block \\d+ of \\S+ from ${liar.peerId}`));
      const dest = `${item.storePath}.tmp`; // what guix-daemon uses when repairing
      await using s2 = helperAgent("substitute", d2.daemon, leecherStore);
      // ...and d2 asks both.
      const second = await s2.substitute(item.storePath, dest, 120_000);
      assertEquals((await first).status, `success ${item.narHash} ${item.narSize}`);
      assertEquals(second.status, `success ${item.narHash} ${item.narSize}`);
      await assertRestored(item.storePath, item.narHash);
      await assertRestored(dest, item.narHash);
      const rows = await d2.json<PeerRow[]>(["peers"]);
      const relay = rows.find((p) => p.peerId === d1!.peerId);
      assertGreater(
        relay?.bytesDown ?? 0,
        0,
        `d2 got blocks from the relay: ${JSON.stringify(rows)}`,
      );
      assertEquals(relay?.faults, 0, `the honest relay is not penalised: ${JSON.stringify(relay)}`);
      assertEquals(relay?.banned, false);
      for (const node of [d1!, d2]) {
        await node.daemon.waitForLog(new RegExp(`peer ${liar.peerId} penalised.*lying manifest`));
      }
    } finally {
      await d2.daemon.stop();
    }
  },
);
