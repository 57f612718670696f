/**
 * The scale simulation (issue 13, docs/scale.md): N in-process nodes, each an
 * unmodified js-libp2p kad-dht 16.4.5 with guix-p2p's provider-record store,
 * over a simulated network (per-link latency, uplink bandwidth, dial and
 * stream-negotiation round trips, a connection limit), on simulated time.
 *
 * 1. Steady state: every routing table filled as a long-running network
 *    leaves it (`--join oracle`, kad-dht's own k-bucket insertion), or grown
 *    by kad-dht itself from one bootstrap peer per node (`--join organic`,
 *    needs `--maintenance on`).
 * 2. Upkeep: `--upkeep-nodes` nodes each provide `--items` keys through the
 *    production sweep provider (src/p2p/serve/sweep_provider.ts); the first
 *    announcement, then one whole reprovide interval, are counted; and
 *    kad-dht's own per-key `provide()` on `--baseline-keys` keys (scaled to
 *    `--items`), the way it republishes.
 * 3. Lookups: `--lookups` provider lookups of random keys of those nodes,
 *    from random nodes, as the daemon makes them (src/p2p/discovery.ts).
 * 4. Churn: `--leave` of the nodes (not the providers) leave at once;
 *    lookups right after; then after the routing tables heal (`--heal
 *    oracle`: dead entries dropped and tables refilled from live peers;
 *    `--heal maintenance`: kad-dht's own upkeep runs for `--heal-minutes`);
 *    then after a reprovide pass has put the records back on live peers.
 *
 * Usage: `./dev bench scale [--nodes 1000] [--lookups 300] [--items 5000]
 * [--upkeep-nodes 3] [--baseline-keys 500] [--latency 50] [--uplink-mbit 10]
 * [--max-connections 64] [--dial-rtts 4] [--leave 0.2] [--join oracle|organic]
 * [--maintenance off|on] [--heal oracle|maintenance] [--heal-minutes 30]
 * [--phases upkeep,lookup,churn] [--prefix-length 7] [--alpha 10] [--disjoint-paths 10] [--seed 1] [--json FILE]`
 *
 * @module
 */
import { base32 } from "multiformats/bases/base32";
import { narCid } from "../../src/p2p/content_key.ts";
import { DHT_PREFIX_LENGTH } from "../../src/p2p/node.ts";
import { SweepProvider } from "../../src/p2p/serve/sweep_provider.ts";
import { parseFlags } from "../../src/std/cli.ts";
import { mulberry32 } from "../../tests/support/random.ts";
import { loadavg } from "../measure.ts";
import { realNow, VirtualClock } from "./_clock.ts";
import { findProvider, type LookupResult, summarize } from "./_lookup.ts";
import { SimNetwork, type Traffic } from "./_net.ts";
import { narKey, population, type SimKey } from "./_population.ts";
import { RealDht, shuffle } from "./_real_dht.ts";
import { simClock, simSweepDht } from "./_sweep_port.ts";

const { flags } = parseFlags(Deno.args, {
  string: [
    "nodes",
    "lookups",
    "items",
    "upkeep-nodes",
    "baseline-keys",
    "latency",
    "uplink-mbit",
    "max-connections",
    "dial-rtts",
    "leave",
    "join",
    "maintenance",
    "heal",
    "heal-minutes",
    "phases",
    "seed",
    "json",
    "interval-hours",
    "settle-minutes",
    "background",
    "prefix-length",
    "alpha",
    "disjoint-paths",
  ],
});
const N = Number(flags.nodes ?? 1000);
const LOOKUPS = Number(flags.lookups ?? 300);
const ITEMS = Number(flags.items ?? 5000);
const UPKEEP_NODES = Number(flags["upkeep-nodes"] ?? 3);
const BASELINE_KEYS = Number(flags["baseline-keys"] ?? 500);
const LATENCY = Number(flags.latency ?? 50);
const UPLINK = Number(flags["uplink-mbit"] ?? 10) * 1e6 / 8;
const MAX_CONN = Number(flags["max-connections"] ?? 64);
const DIAL_RTTS = Number(flags["dial-rtts"] ?? 4);
const LEAVE = Number(flags.leave ?? 0.2);
const JOIN = flags.join ?? "oracle";
const MAINTENANCE = (flags.maintenance ?? (JOIN === "organic" ? "on" : "off")) === "on";
const HEAL = flags.heal ?? (MAINTENANCE ? "maintenance" : "oracle");
const HEAL_MINUTES = Number(flags["heal-minutes"] ?? 30);
const SETTLE_MINUTES = Number(flags["settle-minutes"] ?? 20);
/** Closest-peers lookups each node makes per hour while the network settles or heals. */
const BACKGROUND = Number(flags.background ?? 12);
const PHASES = new Set((flags.phases ?? "upkeep,lookup,churn").split(","));
const SEED = Number(flags.seed ?? 1);
const INTERVAL = Number(flags["interval-hours"] ?? 12) * 3600_000;
/** kad-dht's routing-table depth (default: production's, src/p2p/node.ts). */
const PREFIX_LENGTH = Number(flags["prefix-length"] ?? DHT_PREFIX_LENGTH);
/** kad-dht's query concurrency per path and number of paths (production: 10 and 10). */
const ALPHA = flags.alpha === undefined ? undefined : Number(flags.alpha);
const PATHS = flags["disjoint-paths"] === undefined ? undefined : Number(flags["disjoint-paths"]);
const PROTOCOL = "/guix-p2p/kad/1.0.0";
const BUDGET = 30_000;

const wall0 = realNow();
const report: Record<string, unknown> = {
  nodes: N,
  latencyMs: LATENCY,
  uplinkMbit: UPLINK * 8 / 1e6,
  maxConnections: MAX_CONN,
  dialRtts: DIAL_RTTS,
  join: JOIN,
  maintenance: MAINTENANCE,
  seed: SEED,
  prefixLength: PREFIX_LENGTH,
  alpha: ALPHA ?? 10,
  disjointPaths: PATHS ?? ALPHA ?? 10,
  loadBefore: loadavg(),
};
const log = (msg: string) =>
  console.error(`[${((realNow() - wall0) / 1000).toFixed(0)} s, load ${loadavg()}] ${msg}`);

const rand = mulberry32(SEED);
const clock = new VirtualClock({ seed: SEED + 1 });
const restore = clock.install();
const peers = population(N, rand);
const net = new SimNetwork(clock, {
  nodes: N,
  latencyMs: LATENCY,
  uplinkBytesPerSecond: UPLINK,
  maxConnections: MAX_CONN,
  dialRtts: DIAL_RTTS,
}, rand);
const world = RealDht.create({
  clock,
  net,
  peers,
  protocol: PROTOCOL,
  maintenance: MAINTENANCE,
  prefixLength: PREFIX_LENGTH,
  ...(ALPHA === undefined ? {} : { alpha: ALPHA }),
  ...(PATHS === undefined ? {} : { disjointPaths: PATHS }),
});
const heap0 = Deno.memoryUsage().heapUsed;
const sent = (t: Traffic) => [...t.sent.values()].reduce((a, b) => a + b, 0);

// 1. Steady state.
if (JOIN === "organic") {
  // Nodes join over 10 simulated minutes, each knowing one earlier node; kad-dht does the rest.
  await world.start([0]);
  for (let i = 1; i < N; i++) {
    await drive(world.addToTable(i, [peers[Math.floor(rand() * i)]!]));
  }
  const order = [...peers.keys()].slice(1);
  for (const [k, i] of order.entries()) {
    clock.set(() => void world.nodes[i]!.dht.start(), (k / order.length) * 600_000);
  }
  await clock.run({ until: clock.now + 600_000 });
  // Table sizes as the network settles: kad-dht 16.4.5 learns peers only from the answers to
  // queries and from connections (its table refresh never starts and its periodic self-query
  // aborts itself, docs/scale.md), so each node makes `--background` lookups an hour.
  background(SETTLE_MINUTES);
  const growth: [number, number, number][] = [];
  for (let m = 0; m < SETTLE_MINUTES; m += 5) {
    await clock.run({ until: clock.now + 5 * 60_000 });
    const sizes = world.nodes.map((n) => n.dht.routingTable.size as number);
    const msgs = net.traffic.reduce((a, t) => a + sent(t), 0);
    net.resetTraffic();
    growth.push([m + 5, +(sizes.reduce((a, b) => a + b, 0) / N).toFixed(1), msgs]);
  }
  report.tableGrowth = growth;
  log(`table growth (minutes after the last join, mean size, messages): ${JSON.stringify(growth)}`);
} else {
  for (let i = 0; i < N; i++) await drive(world.fillTable(i, rand, () => true));
  await world.start();
  await clock.run({ until: clock.now + 2000 });
}
const tableSizes = world.nodes.map((n) => n.dht.routingTable.size as number);
report.steady = {
  simulatedMs: Math.round(clock.now),
  tableMean: tableSizes.reduce((a, b) => a + b, 0) / N,
  tableMin: Math.min(...tableSizes),
  tableMax: Math.max(...tableSizes),
  heapKiBPerNode: Math.round((Deno.memoryUsage().heapUsed - heap0) / N / 1024),
  rssMiB: Math.round(Deno.memoryUsage().rss / 2 ** 20),
  wallS: Math.round((realNow() - wall0) / 1000),
};
log(`steady state: ${JSON.stringify(report.steady)}`);

// 2. Upkeep: the sweep provider on a few nodes with ITEMS keys each.
const upkeepNodes = shuffle([...peers.keys()], rand).slice(0, UPKEEP_NODES);
const keysOf = new Map<number, SimKey[]>(
  upkeepNodes.map((i) => [i, Array.from({ length: ITEMS }, () => narKey(rand))]),
);
const sweeps = upkeepNodes.map((i) =>
  new SweepProvider({
    dht: simSweepDht(world, i),
    clock: simClock(clock),
    intervalMs: INTERVAL,
    peerRate: 25,
    peerBurst: 500,
  })
);
const traffic = (i: number) => {
  const t = net.traffic[i]!;
  return {
    messages: Object.fromEntries(t.sent),
    messagesTotal: sent(t),
    payloadOutKiB: Math.round(t.payloadOut / 1024),
    payloadInKiB: Math.round(t.payloadIn / 1024),
    wireOutKiB: Math.round(t.wireOut / 1024),
    wireInKiB: Math.round(t.wireIn / 1024),
    dials: t.dials,
  };
};
net.resetTraffic();
const tAnnounce = clock.now;
sweeps.forEach((s, k) => {
  s.start();
  for (const key of keysOf.get(upkeepNodes[k]!)!) s.provide(key.narHash);
});
await clock.run({ done: () => sweeps.every((s) => s.stats().batches >= 1) });
report.announce = {
  simulatedS: Math.round((clock.now - tAnnounce) / 1000),
  perNode: upkeepNodes.map((i, k) => ({ ...traffic(i), ...sweeps[k]!.stats() })),
  wallS: Math.round((realNow() - wall0) / 1000),
};
log(`first announcement: ${JSON.stringify(report.announce)}`);

/** Placement: for a sample of keys, how many of their 20 true closest live peers hold a record. */
const placement = (sample: number, owners: Map<number, SimKey[]> = keysOf) => {
  const alive = peers.filter((p) => net.alive[p.index]);
  const counts: number[] = [];
  for (const [i, keys] of owners) {
    const self = peers[i]!.peerId.toString();
    for (const key of keys.slice(0, sample)) {
      const text = narCid(key.narHash).multihash.bytes;
      const closest = [...alive].filter((p) => p.index !== i).sort((a, b) =>
        cmpXor(a.kadId, b.kadId, key.kadId)
      ).slice(0, 20);
      const k = base32.baseEncode(text);
      counts.push(
        closest.filter((p) => world.nodes[p.index]!.store.get(k, self) !== undefined).length,
      );
    }
  }
  const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length);
  return {
    keys: counts.length,
    meanOf20: +mean.toFixed(2),
    none: counts.filter((c) => c === 0).length,
  };
};
report.placement = placement(100);
log(`placement: ${JSON.stringify(report.placement)}`);

// 3. Lookups.
const allKeys = [...keysOf].flatMap(([i, keys]) => keys.map((key) => ({ owner: i, key })));
const lookups = async (label: string) => {
  const results: LookupResult[] = [];
  const t0 = realNow();
  for (let l = 0; l < LOOKUPS; l++) {
    const { owner, key } = allKeys[Math.floor(rand() * allKeys.length)]!;
    let from = Math.floor(rand() * N);
    while (from === owner || !net.alive[from]) from = Math.floor(rand() * N);
    results.push(await findProvider(world, clock, from, key, { budgetMs: BUDGET }));
  }
  const s = summarize(results);
  log(`${label}: ${JSON.stringify(s)} (${((realNow() - t0) / 1000).toFixed(0)} s wall)`);
  return s;
};
if (PHASES.has("lookup")) report.lookup = await lookups("lookups");

// 2b. Upkeep over one interval, per node and hour: from half an interval after the first
// announcement (keys announced then wait for the next pass) to one and a half, every key
// is sent once.
if (PHASES.has("upkeep")) {
  await clock.run({ until: tAnnounce + INTERVAL / 2 });
  net.resetTraffic();
  const lookups0 = sweeps.map((s) => s.stats().lookups);
  const t0 = clock.now;
  await clock.run({ until: t0 + INTERVAL });
  const hours = INTERVAL / 3600_000;
  report.upkeep = {
    intervalHours: hours,
    perNode: upkeepNodes.map((i, k) => {
      const t = traffic(i);
      return {
        ...t,
        regionLookups: sweeps[k]!.stats().lookups - lookups0[k]!,
        perHour: {
          messages: Math.round(t.messagesTotal / hours),
          wireOutKiB: +(t.wireOutKiB / hours).toFixed(1),
          wireInKiB: +(t.wireInKiB / hours).toFixed(1),
        },
      };
    }),
    wallS: Math.round((realNow() - wall0) / 1000),
  };
  log(`upkeep: ${JSON.stringify(report.upkeep)}`);

  // Baseline: kad-dht's own provide() per key (as its republisher does), on one node.
  const b = shuffle([...peers.keys()].filter((i) => !keysOf.has(i)), rand)[0]!;
  const bkeys = Array.from({ length: BASELINE_KEYS }, () => narKey(rand));
  net.resetTraffic();
  const tb = clock.now;
  let done = 0;
  const queue = [...bkeys];
  const worker = async () => {
    for (let k = queue.shift(); k; k = queue.shift()) {
      try {
        for await (
          const _ of world.nodes[b]!.dht.provide(narCid(k.narHash), {
            signal: AbortSignal.timeout(3600_000),
          })
        ) { /* drain */ }
      } catch { /* counted as traffic anyway */ }
      done++;
    }
  };
  // kad-dht's republisher runs 10 at a time (REPROVIDE_CONCURRENCY).
  for (let w = 0; w < 10; w++) void worker();
  await clock.run({ done: () => done === BASELINE_KEYS });
  const t = traffic(b);
  const scale = ITEMS / BASELINE_KEYS;
  report.baseline = {
    keys: BASELINE_KEYS,
    placement: placement(100, new Map([[b, bkeys]])),
    simulatedS: Math.round((clock.now - tb) / 1000),
    ...t,
    scaledTo: ITEMS,
    perInterval: {
      messages: Math.round(t.messagesTotal * scale),
      wireOutKiB: Math.round(t.wireOutKiB * scale),
      wireInKiB: Math.round(t.wireInKiB * scale),
    },
    perHour: {
      messages: Math.round(t.messagesTotal * scale / (INTERVAL / 3600_000)),
      wireOutKiB: +(t.wireOutKiB * scale / (INTERVAL / 3600_000)).toFixed(1),
      wireInKiB: +(t.wireInKiB * scale / (INTERVAL / 3600_000)).toFixed(1),
    },
  };
  log(`baseline (kad-dht provide per key): ${JSON.stringify(report.baseline)}`);
}

// 4. Churn.
if (PHASES.has("churn")) {
  const providers = new Set(upkeepNodes);
  const leaving = shuffle([...peers.keys()].filter((i) => !providers.has(i)), rand)
    .slice(0, Math.round(LEAVE * N));
  for (const i of leaving) net.leave(i);
  const gone = new Set(leaving);
  const churn: Record<string, unknown> = { left: leaving.length };
  churn.placementAfterLeave = placement(100);
  churn.rightAfter = await lookups("right after the departure");
  const tHeal = clock.now;
  if (HEAL === "maintenance") {
    background(HEAL_MINUTES);
    await clock.run({ until: clock.now + HEAL_MINUTES * 60_000 });
  } else {
    for (let i = 0; i < N; i++) {
      if (gone.has(i)) continue;
      await drive(world.dropFromTable(i, (j) => gone.has(j)));
      // Filling may ping old contacts (kad-dht does before evicting one): the clock must run.
      await drive(world.fillTable(i, rand, (j) => !gone.has(j)));
    }
  }
  const dead = world.nodes.filter((n) => !gone.has(n.index)).map((n) =>
    world.tablePeers(n.index).filter((p) => gone.has(p.index)).length
  );
  churn.heal = {
    how: HEAL,
    simulatedMinutes: Math.round((clock.now - tHeal) / 60_000),
    deadEntriesMean: +(dead.reduce((a, b) => a + b, 0) / dead.length).toFixed(1),
  };
  churn.afterHeal = await lookups("after the routing tables heal");
  // One reprovide pass puts the records back on live peers.
  await clock.run({ until: clock.now + INTERVAL });
  churn.placementAfterSweep = placement(100);
  churn.afterSweep = await lookups("after a reprovide pass");
  report.churn = churn;
}

report.wallS = Math.round((realNow() - wall0) / 1000);
report.rssMiB = Math.round(Deno.memoryUsage().rss / 2 ** 20);
report.loadAfter = loadavg();
restore();
console.log(JSON.stringify(report, null, 2));
if (flags.json) await Deno.writeTextFile(flags.json, JSON.stringify(report, null, 2));
await world.stop().catch(() => {});
Deno.exit(0);

/**
 * Schedules, over the next `minutes`, `BACKGROUND` closest-peers lookups per
 * hour from every live node, of random keys (real kad-dht queries: what a
 * node's own sweeps and users' lookups make it do).
 */
function background(minutes: number): void {
  const span = minutes * 60_000;
  const per = Math.round((BACKGROUND * minutes) / 60);
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < per; k++) {
      clock.set(() => {
        if (!net.alive[i]) return;
        void (async () => {
          for await (
            const _ of world.nodes[i]!.dht.getClosestPeers(narKey(rand).multihash, {
              signal: AbortSignal.timeout(60_000),
            })
          ) { /* drain */ }
        })().catch(() => {});
      }, rand() * span);
    }
  }
}

/** Runs the simulation until `work` settles. */
async function drive<T>(work: Promise<T>): Promise<T> {
  let done = false;
  const settled = work.finally(() => (done = true));
  await clock.run({ done: () => done });
  return await settled;
}

function cmpXor(a: Uint8Array, b: Uint8Array, t: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = (a[i]! ^ t[i]!) - (b[i]! ^ t[i]!);
    if (d !== 0) return d;
  }
  return 0;
}
