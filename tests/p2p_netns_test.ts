/**
 * guix-p2p across real network interfaces: daemons in separate network
 * namespaces (tests/support/netns.ts) joined by bridges, routers and a NAT
 * home router. Only addresses inside these namespaces are used; the narinfo
 * cache is a file:// URL (the file system is shared), so every NAR byte
 * crosses the emulated network. Run as root (CI is); skipped otherwise.
 */
import { assertEquals, assertGreater } from "@std/assert";
import { helperAgent } from "./support/daemon_proc.ts";
import { type Host, NetLab, netnsSkipReason } from "./support/netns.ts";
import { p2pWorld } from "./support/p2p_world.ts";
import { randomBytes } from "./support/random.ts";
import { seedItems, startNode, type SwarmNode } from "./support/swarm.ts";
import { assertRestored } from "./support/tree_check.ts";
import type { FixtureItem } from "./support/guix_cache.ts";

const SKIP = netnsSkipReason();
if (SKIP) console.error(`p2p_netns_test: skipped: ${SKIP}`);
const T = { sanitizeOps: false, sanitizeResources: false, ignore: SKIP !== undefined };

const PORT = 4001;

interface PeerRow {
  peerId: string;
  connected: boolean;
  addresses: string[];
  bytesDown: number;
}

/** Settings of a daemon on `host` listening on its first address. */
function hostSettings(host: Host, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listen: [`/ip4/${host.ip}/tcp/${PORT}`],
    connection_allowlist: [],
    mdns: false,
    ...extra,
  };
}

/** Starts a daemon inside `host`'s namespace. */
function nodeOn(
  host: Host,
  root: string,
  settings: Record<string, unknown>,
  bootstrap?: string,
): Promise<SwarmNode> {
  return startNode(host.name, `${root}/${host.name}`, settings, bootstrap, {
    wrap: host.wrap,
    address: `/ip4/${host.ip}/tcp/${PORT}`,
  });
}

/** Three items: `top` refers to `left` and `right` (a small closure). */
async function makeClosure(
  world: Awaited<ReturnType<typeof p2pWorld>>,
  storeDir: string,
): Promise<{ top: FixtureItem; left: FixtureItem; right: FixtureItem }> {
  const tree = async (name: string, bytes: number) => {
    const dir = `${world.root}/src-${name}`;
    await Deno.mkdir(`${dir}/lib`, { recursive: true });
    await Deno.writeFile(`${dir}/lib/${name}.so`, randomBytes(bytes));
    await Deno.writeTextFile(`${dir}/README`, `${name}\n`.repeat(1000));
    return dir;
  };
  const left = await world.item(await tree("left", 300_000), "left-1.0", storeDir);
  const right = await world.item(await tree("right", 300_000), "right-1.0", storeDir);
  const top = await world.item(await tree("top", 3 * 1024 * 1024), "top-1.0", storeDir, {
    references: [left.baseName, right.baseName],
  });
  return { top, left, right };
}

/** Substitutes `items` on `node` through the real helper driven like guix-daemon. */
async function substituteAll(node: SwarmNode, items: FixtureItem[]): Promise<void> {
  const paths = items.map((i) => i.storePath);
  await using q = helperAgent("query", node.daemon, node.store);
  assertEquals(await q.have(paths), [...paths].sort(), "p2p-only claims the closure");
  await using s = helperAgent("substitute", node.daemon, node.store);
  for (const item of items) {
    const out = await s.substitute(item.storePath, item.storePath, 120_000);
    assertEquals(out.status, `success ${item.narHash} ${item.narSize}`, item.storePath);
    await assertRestored(item.storePath, item.narHash);
  }
}

Deno.test(
  "netns (a): four hosts on one LAN find each other by mDNS alone; a closure comes from two neighbours",
  T,
  async () => {
    await using lab = await NetLab.create();
    await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-netns-a-" }));
    const sub = `10.${60 + (lab.index % 60)}.1`;
    const lan = await lab.lan("lan", sub);
    const hosts = await Promise.all(
      [2, 3, 4, 5].map((n, i) => lab.host(`h${i}`, { lan, ip: `${sub}.${n}` })),
    );
    const leecherStore = `${world.root}/h3/store`;
    const { top, left, right } = await makeClosure(world, leecherStore);
    const cache = { substitute_urls: [`file://${world.root}/cache`] };
    const nodes = await Promise.all(hosts.map((h, i) =>
      nodeOn(
        h,
        world.root,
        hostSettings(h, {
          mdns: true,
          ...(i === 3 ? { ...world.leecherSettings(leecherStore), ...cache } : {}),
        }),
      )
    ));
    await using _stop = {
      [Symbol.asyncDispose]: () => Promise.all(nodes.map((n) => n.daemon.stop())).then(() => {}),
    };
    const [n0, n1, , leecher] = nodes as [SwarmNode, SwarmNode, SwarmNode, SwarmNode];
    // No bootstrap address anywhere: every node discovers the three others on the LAN.
    for (const n of nodes) {
      for (const other of nodes.filter((o) => o !== n)) {
        await n.daemon.waitForLog(new RegExp(`discovered peer ${other.peerId} `), 30_000);
      }
    }
    await seedItems(n0, [top, left]);
    await seedItems(n1, [top, right]);
    await substituteAll(leecher, [left, right, top]);
    const peers = await leecher.json<PeerRow[]>(["peers"]);
    for (const seeder of [n0, n1]) {
      const row = peers.find((p) => p.peerId === seeder.peerId);
      assertGreater(row?.bytesDown ?? 0, 0, `bytes came from ${seeder.name}`);
      // The neighbour was reached on its LAN address.
      assertEquals(row?.addresses.some((a) => a.includes(`/ip4/${sub}.`)), true);
    }
  },
);
