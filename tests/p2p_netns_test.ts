/**
 * guix-p2p across real network interfaces: daemons in separate network
 * namespaces (tests/support/netns.ts) joined by bridges, routers and a NAT
 * home router. Only addresses inside these namespaces are used; the narinfo
 * cache is a file:// URL (the file system is shared), so every NAR byte
 * crosses the emulated network. Run as root (CI is); skipped otherwise.
 */
import { assertEquals, assertGreater, assertStringIncludes } from "@std/assert";
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
  faults: number;
  banned: boolean;
  bulkLane?: { state: string; bytesIn: number } | null;
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
    // Large enough (64 blocks) that the second seeder, found a moment after the first, gets a
    // share before the first (on a fast bulk lane) has sent everything.
    await Deno.writeFile(`${src}/blob`, randomBytes(16 * 1024 * 1024));
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
      // Blocks kept (bytesDown), or blocks sent on its bulk lane that the other seeder had
      // already delivered (as in tests/p2p_swarm_test.ts: both were asked, both answered).
      assertGreater(
        (row?.bytesDown ?? 0) + (row?.bulkLane?.bytesIn ?? 0),
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

/** Which path carried (at least) `size` bytes of a node's block-protocol traffic. */
function pathOf(nat: NatRow, size: number): string {
  const { direct, relayed } = nat.bytesIn;
  if (direct >= size) return relayed >= size ? "direct and relay" : "direct";
  return relayed >= size ? "relay" : "neither";
}

Deno.test(
  "netns (c): a seeder behind a masquerading home router serves a public leecher (direct after DCUtR) and one behind another NAT (through the relay, within its limits)",
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

    // A (4 MiB) fits the relay's per-connection data limit (8 MiB here), B (14 MiB) does not.
    const tree = async (name: string, bytes: number) => {
      const dir = `${world.root}/src-${name}`;
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeFile(`${dir}/blob`, randomBytes(bytes));
      return dir;
    };
    const srcA = await tree("a", 4 * 1024 * 1024);
    const srcB = await tree("b", 14 * 1024 * 1024);
    // One narinfo per leecher store (same NAR, so the same NarHash the seeder announces).
    const itemsFor = async (store: string) => ({
      a: await world.item(srcA, "small-1.0", store),
      b: await world.item(srcB, "large-1.0", store),
    });
    const forPub = await itemsFor(`${world.root}/pub/store`);
    const forNatted = await itemsFor(`${world.root}/natted/store`);
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
      hostSettings(relayHost, {
        relay_service: true,
        relay_max_data: "8MiB",
        relay_circuit_rate: 20,
      }),
    );
    await using _relay = { [Symbol.asyncDispose]: () => relay.daemon.stop().then(() => {}) };
    const seeder = await nodeOn(seedHost, world.root, hostSettings(seedHost), relay.address);
    await using _seeder = { [Symbol.asyncDispose]: () => seeder.daemon.stop().then(() => {}) };
    // Behind the NAT the seeder knows it is private and reserves a slot on the relay.
    await seeder.daemon.waitForLog(/reachability: private/);
    await seeder.daemon.waitForLog(new RegExp(`relay reservation on ${relay.peerId}`), 30_000);
    await seedItems(seeder, [forPub.a, forPub.b]);

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

    // The NATed leecher first, so the seeder is the only source it can use. Its DHT knows the
    // relay and the public leecher (the seeder is reachable only through the relay).
    await substituteAll(natted, [forNatted.a], 2);
    // B is more than one relayed connection may carry: the relay closes each connection at its
    // data limit, the download resumes on a new one (a few circuits a minute are allowed), and
    // the seeder is not blamed for the cuts.
    await substituteAll(natted, [forNatted.b], 2);
    const nattedNat = await natOf(natted);
    const seen = (await natted.json<PeerRow[]>(["peers"])).find((p) => p.peerId === seeder.peerId);
    assertEquals([seen?.faults, seen?.banned], [0, false], JSON.stringify(seen));
    const circuits =
      relay.daemon.log.filter((l) =>
        l.includes(`relaying a connection from ${natted.peerId} to ${seeder.peerId}`)
      ).length;
    // 18 MiB through connections limited to 8 MiB each: at least three.
    assertGreater(circuits, 2, `relayed connections from the NATed leecher: ${circuits}`);
    await substituteAll(pub, [forPub.a, forPub.b], 2);
    const pubNat = await natOf(pub);
    const relayNat = await natOf(relay);
    const seederNat = await natOf(seeder);
    const size = forPub.a.narSize;
    const report = {
      natted: { path: pathOf(nattedNat, size), ...nattedNat.bytesIn, circuits },
      pub: {
        path: pathOf(pubNat, size),
        ...pubNat.bytesIn,
        upgrades: pubNat.holePunching.directUpgrades,
      },
    };
    console.log(`netns (c) paths: ${JSON.stringify(report)}`);
    console.log(
      `netns (c) relay: reachability ${relayNat.reachability}, ${relayNat.relayService.reservations} reservation(s); seeder: ${seederNat.reachability}, UPnP ${seederNat.upnp.state}, ${seederNat.holePunching.directUpgrades} direct upgrade(s)`,
    );
    assertEquals(relayNat.reachability, "public", "AutoNAT confirmed the relay's address");
    assertEquals(relayNat.relayService.reservations, 2, "the seeder and the NATed leecher");
    assertEquals(seederNat.reachability, "private");
    assertEquals(seederNat.relayClient.reservations.map((r) => r.relay), [relay.peerId]);
    assertEquals(
      seederNat.upnp.state,
      "searching",
      "no UPnP gateway here: still searching, quietly",
    );
    // What `guix-p2p status` tells the seeder's owner.
    const text = (await seeder.cli(["status"])).stdout;
    assertStringIncludes(text, "reachability: private");
    assertStringIncludes(text, `relay reservations: ${relay.peerId}`);
    // Two NATs that drop unsolicited packets: js-libp2p's TCP cannot punch (no simultaneous
    // open from the listening port), so only the relay carried A and B.
    assertEquals(report.natted.path, "relay", JSON.stringify(report));
    assertGreater(nattedNat.bytesIn.relayed, forNatted.a.narSize + forNatted.b.narSize);
    // The public leecher reached the seeder through the relay, and the seeder dialled it back
    // directly (DCUtR's connection reversal through its own NAT): A and B came direct, B
    // unhindered by the relay's limit.
    assertEquals(report.pub.path, "direct", JSON.stringify(report));
    assertGreater(pubNat.bytesIn.direct, forPub.a.narSize + forPub.b.narSize);
    assertGreater(seederNat.holePunching.directUpgrades, 0);
  },
);
