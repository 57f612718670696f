/**
 * Signed narinfos travel through the swarm (issue 15), end to end with
 * daemon processes on 127.0.0.1 and the real helper under the guix-daemon
 * emulator: a closure substituted with its upstream server stopped, from two
 * peers that hold it (the narinfos they verified, the items they seed); a
 * peer that serves a narinfo signed by an unknown key or with a tampered
 * field refused and penalised; a slow upstream beaten by a peer.
 *
 * All nodes share one store directory string, as the machines of a real
 * swarm share /gnu/store: the seeders' items sit in it, and the leecher
 * restores into `<path>.tmp` (a destination guix-daemon may use).
 */
import { assert, assertEquals } from "@std/assert";
import { helperAgent } from "./support/daemon_proc.ts";
import { type FixtureItem, makeItem, publishItem } from "./support/guix_cache.ts";
import { startEvilPeer } from "./support/evil.ts";
import { p2pWorld } from "./support/p2p_world.ts";
import { randomBytes } from "./support/random.ts";
import { startSwarm, type SwarmNode, waitForPeers, withClient } from "./support/swarm.ts";
import { assertRestored } from "./support/tree_check.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

/** A closure of `n` items (item i refers to item i-1), published with zstd NARs. */
async function closure(
  world: Awaited<ReturnType<typeof p2pWorld>>,
  store: string,
  n: number,
): Promise<FixtureItem[]> {
  const items: FixtureItem[] = [];
  for (let i = 0; i < n; i++) {
    const src = `${world.root}/src/item-${i}`;
    await Deno.mkdir(`${src}/lib`, { recursive: true });
    await Deno.writeFile(`${src}/lib/lib${i}.so`, randomBytes(i === 0 ? 3 << 20 : 20_000 + i));
    await Deno.writeTextFile(`${src}/README`, `item ${i}\n`.repeat(100));
    const item = await makeItem(src, {
      storeDir: store,
      name: `item-${i}-1.0`,
      references: i > 0 ? [items[i - 1]!.baseName] : [],
    });
    await publishItem(`${world.root}/cache`, item, { key: world.key.key, compressions: ["zstd"] });
    const cp = await new Deno.Command("cp", { args: ["-a", src, item.storePath] }).output();
    assert(cp.success, new TextDecoder().decode(cp.stderr));
    items.push(item);
  }
  return items;
}

/** A seeder that looked the closure up (so it holds the verified narinfos) and seeds it. */
async function holdClosure(node: SwarmNode, items: FixtureItem[]): Promise<void> {
  const found = await withClient(node, (c) => c.lookup(items.map((i) => i.storePath)));
  assertEquals(found.map((f) => f.kind), items.map(() => "found"), `${node.name} lookup`);
  const r = await node.cli(["seed", ...items.map((i) => i.storePath)]);
  assertEquals(r.code, 0, r.stderr);
}

/** `have`, `info`, then every item substituted in order into `<path>.tmp`; returns the helper log. */
async function substituteAll(leecher: SwarmNode, store: string, items: FixtureItem[]) {
  const paths = items.map((i) => i.storePath);
  await using q = helperAgent("query", leecher.daemon, store);
  assertEquals(await q.have(paths), [...paths].sort());
  const info = await q.info(paths);
  assertEquals(info.map((r) => r.narSize).sort(), items.map((i) => i.narSize).sort());
  await using s = helperAgent("substitute", leecher.daemon, store);
  for (const item of items) {
    const out = await s.substitute(item.storePath, `${item.storePath}.tmp`, 120_000);
    assertEquals(out.status, `success ${item.narHash} ${item.narSize}`, s.log.join("\n"));
    await assertRestored(`${item.storePath}.tmp`, item.narHash);
  }
  return s.log;
}

Deno.test(
  "upstream stopped: a closure held by two peers is substituted with its narinfos and NARs from them",
  T,
  async () => {
    await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-ni-" }), {
      serveNars: true,
    });
    const store = `${world.root}/store`;
    await Deno.mkdir(store, { recursive: true });
    const items = await closure(world, store, 4);
    // n3 has no substitute server configured at all (an air-gapped site).
    await using swarm = await startSwarm(
      world.root,
      4,
      (i) => ({
        ...world.leecherSettings(store, "p2p-first"),
        ...(i === 3 ? { substitute_urls: [] } : {}),
      }),
    );
    const [s1, s2, leecher, airgapped] = swarm as unknown as SwarmNode[] as [
      SwarmNode,
      SwarmNode,
      SwarmNode,
      SwarmNode,
    ];
    await Promise.all([holdClosure(s1, items), holdClosure(s2, items)]);
    await world.server.close(); // upstream is gone
    await waitForPeers(leecher, 3);
    const helperLog = await substituteAll(leecher, store, items);
    await waitForPeers(airgapped, 3);
    await using q = helperAgent("query", airgapped.daemon, store);
    const paths = items.map((i) => i.storePath);
    assertEquals(await q.have(paths), [...paths].sort(), "no upstream at all: have from peers");
    assertEquals((await q.info(paths)).length, items.length);
    assert(
      helperLog.some((l) => l.startsWith("Downloading p2p://")),
      helperLog.join("\n"),
    );
    // Both peers served narinfos; the leecher took them from peers, none from HTTP.
    for (const seeder of [s1, s2]) {
      assert(
        seeder.daemon.log.some((l) => /served [1-9]\d*\/\d+ guix narinfo/.test(l)),
        seeder.name,
      );
    }
    const fromPeers = leecher.daemon.log.filter((l) =>
      /narinfo of \S+ from \S+ \(connected\)/.test(l)
    );
    assertEquals(new Set(fromPeers.map((l) => /narinfo of (\S+)/.exec(l)![1])).size, items.length);
    assertEquals(leecher.daemon.log.filter((l) => /penalised/.test(l)), []);
  },
);

Deno.test(
  "peers serving a narinfo signed by an unknown key or with a tampered NarHash are refused and penalised; nothing is substituted from them",
  T,
  async () => {
    await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-ni-" }), {
      serveNars: true,
    });
    const store = `${world.root}/store`;
    await Deno.mkdir(store, { recursive: true });
    const [item] = await closure(world, store, 1) as [FixtureItem];
    await using swarm = await startSwarm(
      world.root,
      2,
      () => world.leecherSettings(store, "p2p-first"),
    );
    const [boot, leecher] = swarm as unknown as [SwarmNode, SwarmNode];
    await world.server.close(); // upstream is gone: only the evil peers claim the item
    const genuine = `${world.root}/cache/${item.hashPart}.narinfo`;
    const evil = async (mode: string) =>
      await startEvilPeer(mode, boot.address, item.source, 60_000, [leecher.address], genuine);
    await using unknownKey = await evil("narinfo-unknown-key");
    await using tampered = await evil("narinfo-tampered");
    await waitForPeers(leecher, 3);
    await using q = helperAgent("query", leecher.daemon, store);
    assertEquals(await q.have([item.storePath]), [], "no narinfo is accepted");
    const refused = (peer: string, why: RegExp) =>
      leecher.daemon.waitForLog(
        new RegExp(`narinfo of ${item.hashPart} from ${peer} refused: ${why.source}`),
        10_000,
      );
    await refused(unknownKey.peerId, /unknown key: signed by key \S+ \(host evil-host\)/);
    await refused(tampered.peerId, /hash mismatch/);
    for (const peer of [unknownKey.peerId, tampered.peerId]) {
      await leecher.daemon.waitForLog(new RegExp(`peer ${peer} penalised`), 10_000);
    }
    await using s = helperAgent("substitute", leecher.daemon, store);
    const out = await s.substitute(item.storePath, `${item.storePath}.tmp`, 60_000);
    assert(!out.status.startsWith("success"), out.status);
    assertEquals(await Deno.lstat(`${item.storePath}.tmp`).catch(() => null), null);
    // The refusals are remembered: a second `have` does not accept them either.
    assertEquals(await q.have([item.storePath]), []);
  },
);

Deno.test(
  "upstream up but slow: the narinfos come from a peer at once and the closure is substituted",
  T,
  async () => {
    await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-ni-" }), {
      serveNars: true,
    });
    const store = `${world.root}/store`;
    await Deno.mkdir(store, { recursive: true });
    const items = await closure(world, store, 3);
    await using swarm = await startSwarm(
      world.root,
      2,
      () => world.leecherSettings(store, "p2p-first"),
    );
    const [seeder, leecher] = swarm as unknown as [SwarmNode, SwarmNode];
    await holdClosure(seeder, items);
    // Every narinfo from upstream now takes a minute (http_connect_timeout is 10 s).
    world.server.faults.push({ match: /\.narinfo$/, action: "slow", seconds: 60 });
    await waitForPeers(leecher, 1);
    const paths = items.map((i) => i.storePath);
    await using q = helperAgent("query", leecher.daemon, store);
    // Within 8 s, before the servers' answers could even have timed out.
    assertEquals(await q.have(paths, 8_000), [...paths].sort());
    for (const item of items) {
      await leecher.daemon.waitForLog(
        new RegExp(`narinfo of ${item.hashPart} from ${seeder.peerId} \\(connected\\)`),
        1_000,
      );
    }
    await substituteAll(leecher, store, items);
  },
);
