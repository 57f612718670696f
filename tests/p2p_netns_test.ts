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
import { seedItems, startNode, type SwarmNode, waitForDht } from "./support/swarm.ts";
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

/**
 * Substitutes `items` on `node` through the real helper driven like
 * guix-daemon, once its DHT knows `dhtPeers` peers (a node that just started
 * looks providers up only after its first self-query).
 */
async function substituteAll(
  node: SwarmNode,
  items: FixtureItem[],
  dhtPeers: number,
): Promise<void> {
  await waitForDht(node, dhtPeers);
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
    await substituteAll(leecher, [left, right, top], 3);
    const peers = await leecher.json<PeerRow[]>(["peers"]);
    for (const seeder of [n0, n1]) {
      const row = peers.find((p) => p.peerId === seeder.peerId);
      assertGreater(row?.bytesDown ?? 0, 0, `bytes came from ${seeder.name}`);
      // The neighbour was reached on its LAN address.
      assertEquals(row?.addresses.some((a) => a.includes(`/ip4/${sub}.`)), true);
    }
  },
);

Deno.test(
  "netns (b): two LANs joined by a router find each other through a bootstrap node on the other side",
  T,
  async () => {
    await using lab = await NetLab.create();
    await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-netns-b-" }));
    const net = `10.${120 + (lab.index % 60)}`;
    const wan = await lab.lan("wan", `${net}.0`);
    const lan1 = await lab.lan("lan1", `${net}.1`);
    const lan2 = await lab.lan("lan2", `${net}.2`);
    await lab.router("router", [
      { lan: wan, ip: `${net}.0.1` },
      { lan: lan1, ip: `${net}.1.1` },
      { lan: lan2, ip: `${net}.2.1` },
    ]);
    const boot = await lab.host("boot", { lan: wan, ip: `${net}.0.2`, gateway: `${net}.0.1` });
    const a1 = await lab.host("a1", { lan: lan1, ip: `${net}.1.2`, gateway: `${net}.1.1` });
    const a2 = await lab.host("a2", { lan: lan1, ip: `${net}.1.3`, gateway: `${net}.1.1` });
    const b1 = await lab.host("b1", { lan: lan2, ip: `${net}.2.2`, gateway: `${net}.2.1` });
    const leecherStore = `${world.root}/b1/store`;
    const src = `${world.root}/src`;
    await Deno.mkdir(src, { recursive: true });
    await Deno.writeFile(`${src}/blob`, randomBytes(4 * 1024 * 1024));
    const item = await world.item(src, "routed-1.0", leecherStore);
    const bootNode = await nodeOn(boot, world.root, hostSettings(boot));
    await using _boot = { [Symbol.asyncDispose]: () => bootNode.daemon.stop().then(() => {}) };
    const cache = { substitute_urls: [`file://${world.root}/cache`] };
    const nodes = await Promise.all([
      nodeOn(a1, world.root, hostSettings(a1), bootNode.address),
      nodeOn(a2, world.root, hostSettings(a2), bootNode.address),
      nodeOn(
        b1,
        world.root,
        hostSettings(b1, { ...world.leecherSettings(leecherStore), ...cache }),
        bootNode.address,
      ),
    ]);
    await using _stop = {
      [Symbol.asyncDispose]: () => Promise.all(nodes.map((n) => n.daemon.stop())).then(() => {}),
    };
    const [s1, s2, leecher] = nodes as [SwarmNode, SwarmNode, SwarmNode];
    await seedItems(s1, [item]);
    await seedItems(s2, [item]);
    await substituteAll(leecher, [item], 3);
    const peers = await leecher.json<PeerRow[]>(["peers"]);
    for (const seeder of [s1, s2]) {
      const row = peers.find((p) => p.peerId === seeder.peerId);
      assertGreater(
        row?.bytesDown ?? 0,
        0,
        `bytes came from ${seeder.name}: ${JSON.stringify(peers)}`,
      );
      // Routed, not translated: the seeder is seen at its own LAN address on the other LAN.
      assertEquals(
        row?.addresses.some((a) => a.startsWith(`/ip4/${net}.1.`)),
        true,
        JSON.stringify(row),
      );
    }
  },
);

interface NatRow {
  reachability: string;
  publicAddresses: string[];
  relayClient: { reservations: { relay: string; addresses: string[] }[] };
  relayService: { enabled: boolean; reservations: number };
  holePunching: { directUpgrades: number };
  upnp: { state: string };
  bytesIn: { direct: number; relayed: number };
}

async function natOf(node: SwarmNode): Promise<NatRow> {
  return (await node.json<{ p2p: { nat: NatRow } }>(["status"])).p2p.nat;
}

Deno.test(
  "netns (c): a seeder behind a masquerading home router serves a public leecher (direct after DCUtR) and one behind another NAT (through the relay)",
  T,
  async () => {
    await using lab = await NetLab.create();
    await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-netns-c-" }));
    // The "internet" uses public addresses: libp2p's AutoNAT, identify and DCUtR ignore private
    // ones. They exist only inside these namespaces, which have no route to the host's network.
    const inet = `11.${lab.index % 250}.0`;
    const home1 = `192.168.${lab.index % 250}`;
    const home2 = `172.16.${lab.index % 250}`;
    const internet = await lab.lan("inet", inet);
    const lan1 = await lab.lan("home1", home1);
    const lan2 = await lab.lan("home2", home2);
    await lab.natRouter("nat1", { lan: internet, ip: `${inet}.11` }, {
      lan: lan1,
      ip: `${home1}.1`,
    });
    await lab.natRouter("nat2", { lan: internet, ip: `${inet}.12` }, {
      lan: lan2,
      ip: `${home2}.1`,
    });
    const relayHost = await lab.host("relay", { lan: internet, ip: `${inet}.2` });
    const publicHost = await lab.host("pub", { lan: internet, ip: `${inet}.3` });
    const seedHost = await lab.host("seed", { lan: lan1, ip: `${home1}.2`, gateway: `${home1}.1` });
    const natHost = await lab.host("natted", {
      lan: lan2,
      ip: `${home2}.2`,
      gateway: `${home2}.1`,
    });

    const src = `${world.root}/src`;
    await Deno.mkdir(src, { recursive: true });
    await Deno.writeFile(`${src}/blob`, randomBytes(4 * 1024 * 1024));
    // One narinfo per leecher store (same NAR, so the same NarHash the seeder announces).
    const items = {
      pub: await world.item(src, "natted-1.0", `${world.root}/pub/store`),
      natted: await world.item(src, "natted-1.0", `${world.root}/natted/store`),
    };
    const cache = { substitute_urls: [`file://${world.root}/cache`] };
    const leech = (host: Host, extra: Record<string, unknown> = {}) =>
      hostSettings(host, {
        ...world.leecherSettings(`${world.root}/${host.name}/store`),
        ...cache,
        ...extra,
      });

    // A public bootstrap node that offers a relay (no announce: AutoNAT confirms its address).
    const relay = await nodeOn(
      relayHost,
      world.root,
      hostSettings(relayHost, { relay_service: true }),
    );
    await using _relay = { [Symbol.asyncDispose]: () => relay.daemon.stop().then(() => {}) };
    const seeder = await nodeOn(seedHost, world.root, hostSettings(seedHost), relay.address);
    await using _seeder = { [Symbol.asyncDispose]: () => seeder.daemon.stop().then(() => {}) };
    // Behind the NAT the seeder knows it is private and reserves a slot on the relay.
    await seeder.daemon.waitForLog(/reachability: private/);
    await seeder.daemon.waitForLog(new RegExp(`relay reservation on ${relay.peerId}`), 30_000);
    await seedItems(seeder, [items.pub]);

    const pub = await nodeOn(
      publicHost,
      world.root,
      leech(publicHost, { announce: [`/ip4/${publicHost.ip}/tcp/${PORT}`] }),
      relay.address,
    );
    const natted = await nodeOn(natHost, world.root, leech(natHost), relay.address);
    await using _leechers = {
      [Symbol.asyncDispose]: () =>
        Promise.all([pub.daemon.stop(), natted.daemon.stop()]).then(() => {}),
    };
    const report: Record<string, unknown> = {};
    // The NATed leecher first, so the seeder is the only source it can use.
    for (const leecher of [natted, pub]) {
      // The relay and the public leecher (the seeder is reachable only through the relay).
      await substituteAll(leecher, [items[leecher.name as keyof typeof items]], 2);
      const nat = await natOf(leecher);
      // Block-protocol bytes by path; the item's bytes dominate (the rest is have/manifest).
      const size = items.pub.narSize;
      const path = nat.bytesIn.direct >= size
        ? (nat.bytesIn.relayed >= size ? "direct and relay" : "direct")
        : nat.bytesIn.relayed >= size
        ? "relay"
        : "split";
      report[leecher.name] = {
        path,
        ...nat.bytesIn,
        directUpgrades: nat.holePunching.directUpgrades,
      };
    }
    const relayNat = await natOf(relay);
    const seederNat = await natOf(seeder);
    console.log(`netns (c) paths: ${JSON.stringify(report)}`);
    console.log(
      `netns (c) relay: reachability ${relayNat.reachability}, ${relayNat.relayService.reservations} reservation(s); seeder: ${seederNat.reachability}, UPnP ${seederNat.upnp.state}, ${seederNat.holePunching.directUpgrades} direct upgrade(s)`,
    );
    assertEquals(relayNat.reachability, "public", "AutoNAT confirmed the relay's address");
    assertGreater(relayNat.relayService.reservations, 0);
    assertEquals(seederNat.reachability, "private");
    assertEquals(seederNat.relayClient.reservations.map((r) => r.relay), [relay.peerId]);
    assertEquals(
      seederNat.upnp.state,
      "searching",
      "no UPnP gateway here: still searching, quietly",
    );
    // The public leecher reached the seeder through the relay, and the seeder dialled it back
    // directly (DCUtR's connection reversal through its own NAT): the bytes came direct.
    assertEquals((report.pub as { path: string }).path, "direct", JSON.stringify(report));
    // Two NATs that drop unsolicited packets: js-libp2p's TCP cannot punch (no simultaneous
    // open from the listening port), so only the relay carries the item.
    assertEquals((report.natted as { path: string }).path, "relay", JSON.stringify(report));
  },
);
