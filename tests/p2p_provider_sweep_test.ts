/**
 * Provider records by keyspace region (the sweep provider) between real
 * daemons: records a seeder sends in batches reach a DHT server (a recorder
 * process: a guix-p2p node that logs every ADD_PROVIDER its store keeps) and
 * are refreshed every `reprovide_interval`; another node finds the items
 * through them; once an item is unseeded, or evicted from a node's block
 * cache, its record is no longer refreshed while the others still are.
 */
import { assert, assertEquals } from "@std/assert";
import { base32 } from "multiformats/bases/base32";
import { parseNarHash } from "../src/hash/nar_hash.ts";
import { narCid } from "../src/p2p/content_key.ts";
import { startRecorder } from "./support/dht_recorder.ts";
import { p2pWorld } from "./support/p2p_world.ts";
import { randomBytes } from "./support/random.ts";
import { seedCopy, startNode, waitForProviders, withClient } from "./support/swarm.ts";
import type { FixtureItem } from "./support/guix_cache.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

/** The provider store's name of an item's DHT key. */
function storeKey(item: FixtureItem): string {
  return base32.baseEncode(narCid(parseNarHash(item.narHash)).multihash.bytes);
}

Deno.test(
  "records sent in batches are found and refreshed; an unseeded or evicted item's record is not refreshed",
  T,
  async () => {
    await using world = await p2pWorld(await Deno.makeTempDir({ prefix: "guix-p2p-sweep-" }));
    const { root } = world;
    const leecherStore = `${root}/l/store`;
    const make = async (name: string, bytes: number) => {
      const src = `${root}/src-${name}`;
      await Deno.mkdir(src, { recursive: true });
      await Deno.writeFile(`${src}/data`, randomBytes(bytes));
      return await world.item(src, `${name}-1.0`, leecherStore);
    };
    // A and B are small; C and D are large (downloaded by swarm, announced while downloading).
    const [a, b, c, d] = await Promise.all([
      make("a", 10_000),
      make("b", 10_000),
      make("c", 6 * 1024 * 1024),
      make("d", 6 * 1024 * 1024),
    ]);
    await using rec = await startRecorder();
    const seeder = await startNode("s", `${root}/s`, { reprovide_interval: "2s" }, rec.address);
    await using _s = seeder.daemon;
    const leecher = await startNode(
      "l",
      `${root}/l`,
      { ...world.leecherSettings(leecherStore), cache_size: "10MiB", reprovide_interval: "2s" },
      rec.address,
    );
    await using _l = leecher.daemon;
    const copies = new Map<FixtureItem, string>();
    for (const item of [a!, b!, c!, d!]) {
      copies.set(item, await seedCopy(seeder, item.source, item.baseName));
    }
    const from =
      (node: { peerId: string }, item: FixtureItem) => (r: { key: string; peer: string }) =>
        r.peer === node.peerId && r.key === storeKey(item);
    /** Index of the `n`-th record matching `pred` at or after `start`. */
    const nth = async (
      pred: (r: { key: string; peer: string }) => boolean,
      n: number,
      start: number,
    ) => {
      let i = start - 1;
      for (let k = 0; k < n; k++) i = await rec.waitFor(pred, { from: i + 1 });
      return i;
    };

    // 1. The seeder's batches reach the DHT, are refreshed, and the items are found through them.
    for (const item of [a!, b!, c!, d!]) await nth(from(seeder, item), 2, 0);
    await waitForProviders(leecher, a!.storePath);
    await waitForProviders(leecher, b!.storePath);
    await seeder.daemon.waitForLog(/provider records \(sweep\): \d+ key\(s\) in \d+ region/);

    // 2. Unseeded: no refresh of A once a batch started after the unseed; B goes on.
    const unseed = await seeder.cli(["unseed", copies.get(a!)!]);
    assertEquals(unseed.code, 0, unseed.stderr);
    const mark = rec.records.length;
    // The second B refresh after the unseed comes from a batch that started after it.
    const cut = await nth(from(seeder, b!), 2, mark);
    await nth(from(seeder, b!), 3, cut + 1);
    const late = rec.records.slice(cut).filter(from(seeder, a!));
    assertEquals(late, [], "A is no longer refreshed");

    // 3. Evicted: the leecher downloads C (announcing it), then D, which evicts C from its
    // 10 MiB cache; C's record from the leecher is no longer refreshed, D's is.
    const prefetched = (n: number) =>
      leecher.daemon.waitForLog(/prefetched 1 of 1 item\(s\)/, 120_000, n);
    let at = leecher.daemon.log.length;
    await withClient(leecher, (client) => client.lookup([c!.storePath], { policy: "p2p-only" }));
    await prefetched(at);
    await nth(from(leecher, c!), 2, 0);
    at = leecher.daemon.log.length;
    await withClient(leecher, (client) => client.lookup([d!.storePath], { policy: "p2p-only" }));
    await prefetched(at);
    const firstD = await nth(from(leecher, d!), 1, 0);
    const cutD = await nth(from(leecher, d!), 2, firstD + 1);
    await nth(from(leecher, d!), 3, cutD + 1);
    assertEquals(rec.records.slice(cutD).filter(from(leecher, c!)), [], "C is no longer refreshed");
    // The seeder still refreshes C: only the leecher's copy went away.
    await rec.waitFor(from(seeder, c!), { from: cutD });
    assert(rec.records.every((r) => r.ok), "no record was refused");
  },
);
