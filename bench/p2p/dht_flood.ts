/**
 * DHT provider-record flood (issue 10 item 2): a real daemon (node 0 of a
 * two-node swarm; node 1 seeds one item) is sent ADD_PROVIDER for 100,000
 * random keys by an attacker process (tests/support/dht_flood_peer.ts). We
 * report the daemon's RSS before and after, the records it kept, how the
 * attacker fared, and the provider-lookup latency for the seeded item (a
 * fresh prober process, findProviders through node 0) before and after the
 * flood. Two runs in the same invocation: "defaults" (the limits on) and
 * "limits off" (caps and rate raised out of reach: the indexed store alone,
 * which is what the daemon did before the limits, minus kad-dht's full scan).
 *
 * Usage: `./dev bench dht_flood [--keys 100000] [--probes 9] [--dir /tmp]`
 *
 * @module
 */
import { parseNarHash } from "../../src/hash/nar_hash.ts";
import { narCid } from "../../src/p2p/content_key.ts";
import { parseFlags } from "../../src/std/cli.ts";
import { floodProviders, probeProviders } from "../../tests/support/dht_flood.ts";
import { randomBytes } from "../../tests/support/random.ts";
import { seedCopy, startSwarm } from "../../tests/support/swarm.ts";
import { loadAverage, median, procStats } from "../measure.ts";

const { flags } = parseFlags(Deno.args, { string: ["keys", "probes", "dir"] });
const keys = Number(flags.keys ?? "100000");
const probes = Number(flags.probes ?? "9");
const base = flags.dir ?? "/tmp";

const OFF = {
  dht_provider_records_max: 10_000_000,
  dht_provider_records_per_peer: 10_000_000,
  dht_provider_rate: 1_000_000,
  dht_provider_burst: 10_000_000,
};

interface Status {
  p2p: { dhtProviderRecords: { records: number; refused: Record<string, number> } };
}

async function run(label: string, settings: Record<string, unknown>) {
  const root = await Deno.makeTempDir({ dir: base, prefix: "bench-dht-flood-" });
  try {
    await Deno.mkdir(`${root}/src`);
    await Deno.writeFile(`${root}/src/blob`, randomBytes(64 * 1024));
    await using swarm = await startSwarm(root, 2, () => settings);
    const [target, seeder] = swarm;
    await seedCopy(seeder!, `${root}/src`, "0a0b0c0d0f0g0h0i0j0k0l0m0n0p0q0r-victim-1.0");
    const [seed] = await seeder!.json<{ narHash: string }[]>(["seeds"]);
    const cid = narCid(parseNarHash(seed!.narHash)).toString();
    // Median of `probes` lookups in one prober process, the first (self-query wait) left out.
    const lookups = async () => {
      const p = await probeProviders(target!.address, cid, probes + 1);
      if (p.providers.length === 0) throw new Error(`${label}: lookup found no provider`);
      return median(p.times.slice(1));
    };
    const pid = target!.daemon.child.pid;
    const before = { rss: (await procStats(pid)).rssKiB, lookup: await lookups() };
    const flood = await floodProviders(target!.address, keys);
    const status = await target!.json<Status>(["status"]);
    const rssAfter = (await procStats(pid)).rssKiB;
    const after = { rss: rssAfter, lookup: await lookups() };
    // Again once the lookups ran (a few seconds later: garbage collected, buffers freed).
    const rssSettled = (await procStats(pid)).rssKiB;
    return {
      label,
      rssBeforeMiB: Math.round(before.rss / 1024),
      rssGrowthMiB: Math.round((after.rss - before.rss) / 1024),
      rssSettledGrowthMiB: Math.round((rssSettled - before.rss) / 1024),
      hwmMiB: Math.round((await procStats(pid)).hwmKiB / 1024),
      recordsKept: status.p2p.dhtProviderRecords.records,
      refused: Object.values(status.p2p.dhtProviderRecords.refused).reduce((a, b) => a + b, 0),
      attackerSent: flood.sent,
      attackerRefusedDials: flood.refusedDials,
      floodSeconds: flood.ms / 1000,
      lookupBeforeMs: before.lookup,
      lookupAfterMs: after.lookup,
      lookupRatio: Math.round(after.lookup / Math.max(1, before.lookup) * 100) / 100,
    };
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

const load = [await loadAverage()];
const rows = [await run("defaults", {}), await run("limits off", OFF)];
load.push(await loadAverage());
console.log(`keys ${keys}, probes ${probes}; load average ${load.join(" → ")}`);
console.table(rows);
