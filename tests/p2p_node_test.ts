/**
 * The P2P node's own behaviour across processes: identity and known peers
 * survive a restart; upload rate limits hold; a peer still downloading serves
 * what it has; auto-seeding and unseeding; hostile bytes on the block
 * protocol reset the stream without crashing the daemon or growing its memory.
 */
import { multiaddr } from "@multiformats/multiaddr";
import { assertEquals, assertGreater, assertLessOrEqual } from "@std/assert";
import { BLOCKS_PROTOCOL, encodeFrame } from "../src/p2p/wire/mod.ts";
import { parseNarHash } from "../src/hash/nar_hash.ts";
import { helperAgent } from "./support/daemon_proc.ts";
import { makeItem, makeKey, publishItem, writeGuixConfig } from "./support/guix_cache.ts";
import { startFileServer } from "./support/http_server.ts";
import { p2pWorld } from "./support/p2p_world.ts";
import { randomBytes } from "./support/random.ts";
import {
  seedCopy,
  startNode,
  startRawClient,
  startSwarm,
  type SwarmNode,
  waitForDht,
} from "./support/swarm.ts";
import { assertRestored, forceRemove } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

interface PeerRow {
  peerId: string;
  connected: boolean;
  bytesDown: number;
}

async function substitute(node: SwarmNode, storePath: string) {
  await using s = helperAgent("substitute", node.daemon, node.store);
  return (await s.substitute(storePath, storePath, 120_000)).status;
}

Deno.test("identity and known peers survive a restart", T, async () => {
  const root = await Deno.makeTempDir({ prefix: "guix-p2p-node-" });
  try {
    await using swarm = await startSwarm(root, 2);
    const [n0, n1] = swarm as unknown as SwarmNode[];
    await waitForDht(n1!, 1);
    const before = n1!.peerId;
    assertEquals((await Deno.stat(`${root}/n1/cache/identity.key`)).mode! & 0o777, 0o600);
    await n1!.daemon.stop();
    // Restart without any bootstrap address: the remembered peer is dialled again.
    const again = await startNode("n1", `${root}/n1`, { bootstrap_peers: [] });
    try {
      assertEquals(again.peerId, before);
      await waitForDht(again, 1);
      const peers = await again.json<PeerRow[]>(["peers"]);
      assertEquals(peers.find((p) => p.peerId === n0!.peerId)?.connected, true);
    } finally {
      await again.daemon.stop();
    }
  } finally {
    await forceRemove(root);
  }
});

// What load cannot bend: a busy machine only makes the transfer slower, so the
// test asserts the cap (an unthrottled loopback transfer is many times faster).
// That the limiter reaches its rate, not less, is measured exactly on a manual
// clock in src/p2p/rate/fair_test.ts.
Deno.test("an upload rate limit caps the seeder's upload", T, async () => {
  await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-node-" }));
  const leecherStore = `${world.root}/n2/store`;
  const src = `${world.root}/src`;
  await Deno.mkdir(src);
  await Deno.writeFile(`${src}/blob`, randomBytes(6 * 1024 * 1024));
  const item = await world.item(src, "pkg-1.0", leecherStore, { compressions: ["none"] });
  const rate = 2_000_000;
  await using swarm = await startSwarm(
    world.root,
    3,
    (i) => i === 2 ? world.leecherSettings(leecherStore) : { max_upload_rate: rate },
  );
  const [, seeder, leecher] = swarm as unknown as SwarmNode[];
  await seedCopy(seeder!, src, item.baseName);
  await waitForDht(leecher!, 2);
  assertEquals(
    await substitute(leecher!, item.storePath),
    `success ${item.narHash} ${item.narSize}`,
  );
  const line = await leecher!.daemon.waitForLog(/fetched .* in ([\d.]+) s from/);
  const seconds = Number(/in ([\d.]+) s from/.exec(line)![1]);
  // Random data does not compress: the wire carries ~NarSize bytes.
  const measured = item.narSize / seconds;
  assertLessOrEqual(
    measured / rate,
    1.15,
    `measured ${measured.toFixed(0)} B/s for a ${rate} B/s cap`,
  );
});

/** Publishes `src` as store item `name` of `storeDir` in a new cache served over HTTP (narinfo only). */
async function narinfoServer(
  root: string,
  tag: string,
  src: string,
  storeDir: string,
  hashPart: string,
  key: ReturnType<typeof makeKey>,
) {
  const item = await makeItem(src, { storeDir, name: "shared-1.0", hashPart });
  await publishItem(`${root}/cache-${tag}`, item, { key: key.key, compressions: ["zstd"] });
  const server = await startFileServer({ root: `${root}/cache-${tag}` });
  server.faults.push({ match: /\/nar\//, action: "status", status: 404 });
  return { item, server };
}

Deno.test(
  "a peer still downloading serves the blocks it has; what it fetched is auto-seeded from its store",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-node-" });
    const src = `${root}/src`;
    await Deno.mkdir(src);
    await Deno.writeFile(`${src}/blob`, randomBytes(8 * 1024 * 1024));
    const key = makeKey();
    await writeGuixConfig(`${root}/etc-guix`, key);
    const hashPart = "0123456789abcdfghijklmnpqrsvwxyz".split("").reverse().join("");
    const a = await narinfoServer(root, "a", src, `${root}/n2/store`, hashPart, key);
    const b = await narinfoServer(root, "b", src, `${root}/n3/store`, hashPart, key);
    try {
      const leecher = (srv: typeof a) => ({
        acl_path: `${root}/etc-guix/acl`,
        substitute_urls: [srv.server.url],
        policy: "p2p-only",
        max_upload_rate: "4MB/s",
      });
      await using swarm = await startSwarm(
        root,
        4,
        (i) =>
          i === 1 ? { max_upload_rate: "1MB/s" } : i === 2 ? leecher(a) : i === 3 ? leecher(b) : {},
      );
      const [, seeder, l1, l2] = swarm as unknown as SwarmNode[];
      await seedCopy(seeder!, src, a.item.baseName);
      await waitForDht(l1!, 3);
      await waitForDht(l2!, 3);
      // l1 starts first; the seeder is slow, so l1 is still downloading when l2 starts.
      const first = substitute(l1!, a.item.storePath);
      await l1!.daemon.waitForLog(/block \d+ of \S+ from /, 30_000);
      const second = substitute(l2!, b.item.storePath);
      assertEquals(await first, `success ${a.item.narHash} ${a.item.narSize}`);
      assertEquals(await second, `success ${b.item.narHash} ${b.item.narSize}`);
      await assertRestored(b.item.storePath, b.item.narHash);
      const peers = await l2!.json<PeerRow[]>(["peers"]);
      assertGreater(
        peers.find((p) => p.peerId === l1!.peerId)?.bytesDown ?? 0,
        0,
        `l2 got blocks from l1: ${JSON.stringify(peers)}`,
      );
      // After the substitution, l1 seeds the item from its own store (auto_seed = "p2p").
      await l1!.daemon.waitForLog(/seeding \S+\/n2\/store\/\S+shared-1\.0 \(auto\)/, 30_000);
      const seeds = await l1!.json<{ storePath: string; kind: string }[]>(["seeds"]);
      assertEquals(
        seeds.some((x) => x.storePath === a.item.storePath && x.kind === "store"),
        true,
        JSON.stringify(seeds),
      );
      // unseed: the item is no longer served, at once.
      const r = await l1!.cli(["unseed", a.item.storePath]);
      assertEquals(r.code, 0, r.stderr);
      assertEquals((await l1!.json<unknown[]>(["seeds"])).length, 0);
    } finally {
      await a.server.close();
      await b.server.close();
      await forceRemove(root);
    }
  },
);

Deno.test(
  "garbage and oversized messages reset the stream; the daemon survives without growing",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-node-" });
    try {
      await using swarm = await startSwarm(root, 1, () => ({ max_message_size: "1MiB" }));
      const [n0] = swarm as unknown as SwarmNode[];
      const client = await startRawClient();
      const rss = async () => {
        const status = await Deno.readTextFile(`/proc/${n0!.daemon.child.pid}/status`);
        return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
      };
      const attack = async (bytes: Uint8Array) => {
        const stream = await client.dialProtocol(multiaddr(n0!.address), BLOCKS_PROTOCOL);
        stream.send(bytes);
        let reset = false;
        try {
          for await (const _ of stream) { /* the daemon answers nothing useful */ }
        } catch {
          reset = true;
        }
        return reset || stream.status !== "open";
      };
      const oversized = new Uint8Array([0x7f, 0xff, 0xff, 0xff, 1, 1]);
      const badVersion = encodeFrame({ kind: "get-manifest", id: 1, narHash: new Uint8Array(32) });
      badVersion[4] = 9;
      assertEquals(await attack(oversized), true, "oversized length prefix");
      assertEquals(await attack(badVersion), true, "unknown version");
      const baseline = await rss();
      for (let i = 0; i < 200; i++) {
        await attack(i % 2 ? randomBytes(64 * 1024) : oversized);
      }
      const after = await rss();
      assertLessOrEqual(
        after - baseline,
        40 * 1024 * 1024,
        `RSS grew from ${baseline} to ${after}`,
      );
      // Still serving: a well-formed request for an unknown item gets NOT_FOUND at once.
      const stream = await client.dialProtocol(multiaddr(n0!.address), BLOCKS_PROTOCOL);
      stream.send(
        encodeFrame({
          kind: "get-manifest",
          id: 7,
          narHash: parseNarHash("sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"),
        }),
      );
      await stream.close();
      const { readFrames } = await import("../src/p2p/wire/mod.ts");
      const replies = [];
      for await (const m of readFrames(stream, { accept: "responses" })) replies.push(m.kind);
      assertEquals(replies, ["not-found"]);
      await client.stop();
    } finally {
      await forceRemove(root);
    }
  },
);

Deno.test(
  "mDNS: two daemons on the local network find and connect to each other without a bootstrap address",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-node-" });
    const settings = { mdns: true, listen: ["/ip4/0.0.0.0/tcp/0"] };
    const a = await startNode("a", `${root}/a`, settings);
    const b = await startNode("b", `${root}/b`, settings);
    try {
      await b.daemon.waitForLog(new RegExp(`peer ${a.peerId} connected`), 20_000);
      const peers = await b.json<PeerRow[]>(["peers"]);
      assertEquals(peers.find((p) => p.peerId === a.peerId)?.connected, true);
      // Whichever found the other first dialled it, and says it was mDNS.
      const local = [...a.daemon.log, ...b.daemon.log].filter((l) =>
        new RegExp(`discovered peer (${a.peerId}|${b.peerId}) on the local network`).test(l)
      );
      assertGreater(local.length, 0, [...a.daemon.log, ...b.daemon.log].join("\n"));
    } finally {
      await a.daemon.stop();
      await b.daemon.stop();
      await forceRemove(root);
    }
  },
);

Deno.test(
  "garbage arriving while the server is busy serving blocks resets the stream, never the daemon",
  T,
  async () => {
    const root = await Deno.makeTempDir({ prefix: "guix-p2p-node-" });
    try {
      const src = `${root}/src`;
      await Deno.mkdir(src);
      await Deno.writeFile(`${src}/blob`, randomBytes(8 * 1024 * 1024));
      await using swarm = await startSwarm(root, 1);
      const [n0] = swarm as unknown as SwarmNode[];
      const item = `${n0!.store}/0a0b0c0d0f0g0h0i0j0k0l0m0n0p0q0r-busy-1.0`;
      await new Deno.Command("cp", { args: ["-a", src, item] }).output();
      assertEquals((await n0!.cli(["seed", item])).code, 0);
      const [seed] = await n0!.json<{ narHash: string }[]>(["seeds"]);
      const narHash = parseNarHash(seed!.narHash);
      const client = await startRawClient();
      const bad = encodeFrame({ kind: "get-manifest", id: 2, narHash: new Uint8Array(32) });
      bad[4] = 9; // unknown version: the reader fails while the answer loop reads the store
      for (let round = 0; round < 5; round++) {
        const stream = await client.dialProtocol(multiaddr(n0!.address), BLOCKS_PROTOCOL);
        const request = encodeFrame({
          kind: "get-blocks",
          id: 1,
          narHash,
          indexes: Array.from({ length: 32 }, (_, i) => i),
        });
        stream.send(new Uint8Array([...request, ...bad]));
        try {
          for await (const _ of stream) { /* whatever comes before the reset */ }
        } catch { /* reset */ }
      }
      // The daemon is alive and serving.
      const status = await n0!.json<{ version?: string }>(["status"]);
      assertEquals(typeof status.version, "string", JSON.stringify(status));
      await client.stop();
    } finally {
      await forceRemove(root);
    }
  },
);
