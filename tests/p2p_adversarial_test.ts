/**
 * Peers are never trusted: a peer serving bad blocks, one lying about the
 * manifest, one answering garbage, a seeder dying mid-transfer. The item must
 * still be substituted (from honest peers or HTTP), the culprits penalised,
 * and nothing unverified may reach DEST.
 */
import { assertEquals, assertGreater, assertMatch } from "@std/assert";
import { helperAgent } from "./support/daemon_proc.ts";
import { startEvilPeer } from "./support/evil.ts";
import { makeItem, makeKey, publishItem, writeGuixConfig } from "./support/guix_cache.ts";
import { startFileServer } from "./support/http_server.ts";
import { randomBytes } from "./support/random.ts";
import { seedCopy, startSwarm, type SwarmNode, waitForDht } from "./support/swarm.ts";
import { assertRestored, forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

interface PeerRow {
  peerId: string;
  bytesDown: number;
  faults: number;
  banned: boolean;
}

async function fixture(root: string, leecherStore: string, size = 4 * 1024 * 1024) {
  const src = `${root}/src`;
  await Deno.mkdir(src, { recursive: true });
  await Deno.writeFile(`${src}/blob`, randomBytes(size));
  await Deno.writeTextFile(`${src}/README`, "text\n".repeat(20000));
  const item = await makeItem(src, { storeDir: leecherStore, name: "victim-1.0" });
  const key = makeKey();
  await writeGuixConfig(`${root}/etc-guix`, key);
  await publishItem(`${root}/cache`, item, { key: key.key, compressions: ["zstd"] });
  const server = await startFileServer({ root: `${root}/cache` });
  return { item, src, server, acl: `${root}/etc-guix/acl` };
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
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-adv-" });
    const leecherStore = `${root}/n2/store`;
    const { item, src, server, acl } = await fixture(root, leecherStore);
    server.faults.push({ match: /\/nar\//, action: "status", status: 404 });
    try {
      await using swarm = await startSwarm(root, 3, (i) =>
        i === 2
          ? {
            store_dir: leecherStore,
            acl_path: acl,
            substitute_urls: [server.url],
            policy: "p2p-only",
          }
          : {});
      const [n0, honest, leecher] = swarm as unknown as SwarmNode[];
      await using evil = await startEvilPeer("bad-blocks", n0!.address, src);
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
    } finally {
      await server.close();
      await forceRemove(root);
    }
  },
);

Deno.test(
  "a lying manifest is caught by the NarHash check; the download rewinds to HTTP",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-adv-" });
    const leecherStore = `${root}/n1/store`;
    const { item, src, server, acl } = await fixture(root, leecherStore);
    try {
      await using swarm = await startSwarm(root, 2, (i) =>
        i === 1
          ? {
            store_dir: leecherStore,
            acl_path: acl,
            substitute_urls: [server.url],
            policy: "p2p-first",
          }
          : {});
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
    } finally {
      await server.close();
      await forceRemove(root);
    }
  },
);

Deno.test(
  "a peer answering garbage is dropped; HTTP takes over; the daemon keeps working",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-adv-" });
    const leecherStore = `${root}/n1/store`;
    const { item, src, server, acl } = await fixture(root, leecherStore, 512 * 1024);
    try {
      await using swarm = await startSwarm(root, 2, (i) =>
        i === 1
          ? {
            store_dir: leecherStore,
            acl_path: acl,
            substitute_urls: [server.url],
            policy: "p2p-first",
          }
          : {});
      const [n0, leecher] = swarm as unknown as SwarmNode[];
      await using _garbage = await startEvilPeer("garbage", n0!.address, src);
      await waitForDht(leecher!, 1);
      const { out } = await substitute(leecher!, item.storePath);
      assertEquals(out.status, `success ${item.narHash} ${item.narSize}`);
      const status = await leecher!.json<{ pid: number }>(["status"]);
      assertEquals(status.pid, leecher!.daemon.child.pid);
    } finally {
      await server.close();
      await forceRemove(root);
    }
  },
);

Deno.test(
  "a seeder killed mid-transfer: the download completes from the other seeder",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-adv-" });
    const leecherStore = `${root}/n3/store`;
    const { item, src, server, acl } = await fixture(root, leecherStore, 6 * 1024 * 1024);
    server.faults.push({ match: /\/nar\//, action: "status", status: 404 });
    try {
      await using swarm = await startSwarm(root, 4, (i) =>
        i === 3
          ? {
            store_dir: leecherStore,
            acl_path: acl,
            substitute_urls: [server.url],
            policy: "p2p-only",
          }
          : { max_upload_rate: "1MB/s" });
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
    } finally {
      await server.close();
      await forceRemove(root);
    }
  },
);
