/**
 * Several peers at once (issue "The P2P swarm", targets 3 and 4), daemon
 * processes on 127.0.0.1 behind one bootstrap node, substitutions through the
 * guix-daemon emulator and the real helper (policy p2p-only, NAR refused over
 * HTTP), incompressible data so the wire carries every NAR byte:
 *
 * - **capped**: 4 seeders each with `max_upload_rate = "20MB/s"`, one
 *   leecher: aggregate rate (NAR bytes / daemon fetch time and end to end)
 *   against the 80 MB/s the caps allow, and each seeder's share (the
 *   leecher's `bytesDown` per peer).
 * - **flash**: 1 seeder; first one leecher alone (the baseline, same run),
 *   then 8 fresh leechers started together: time until all are done against
 *   the single-leecher time, and the seeder's upload (its `bytesUp`) against
 *   the NAR size — leechers serve each other the blocks they have.
 *
 * Usage: `./dev bench p2p/swarm [--scenario capped,flash] [--mib 256] [--leechers 8] [--dir /tmp]`
 *
 * @module
 */
import { parseFlags } from "../../src/std/cli.ts";
import type { FixtureItem } from "../../tests/support/guix_cache.ts";
import type { SwarmNode } from "../../tests/support/swarm.ts";
import { loadAverage, mbps, MiB, procStats, table } from "../measure.ts";
import { benchNode, seedCopy, waitForPeers, waitForProviders } from "../../tests/support/swarm.ts";
import { incompressibleTree } from "../../tests/support/tree_gen.ts";
import { substitute, type Substitution } from "./_substitute.ts";
import { type P2pWorld, p2pWorld } from "../../tests/support/p2p_world.ts";

const { flags } = parseFlags(Deno.args, { string: ["scenario", "mib", "leechers", "dir"] });
const scenarios = (flags.scenario ?? "capped,flash").split(",");
const bytes = Number(flags.mib ?? "256") * MiB;
const crowd = Number(flags.leechers ?? "8");
const base = flags.dir ?? "/tmp";

interface PeerRow {
  peerId: string;
  bytesDown: number;
  bytesUp: number;
}

const loads: number[] = [];

function fetchMs(node: SwarmNode): number {
  const line = node.daemon.log.find((l) => /fetched .* in ([\d.]+) s from/.test(l));
  return line ? Number(/in ([\d.]+) s from/.exec(line)![1]) * 1000 : NaN;
}

function expectSuccess(sub: Substitution, item: FixtureItem, node: SwarmNode): void {
  if (sub.status !== `success ${item.narHash} ${item.narSize}`) {
    throw new Error(`${node.name}: ${sub.status}\n${node.daemon.log.slice(-40).join("\n")}`);
  }
}

async function capped(world: P2pWorld, src: string): Promise<void> {
  const root = world.root;
  const boot = await benchNode("boot", `${root}/boot`, {});
  const nodes: SwarmNode[] = [boot];
  try {
    const seeders = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        benchNode(`s${i}`, `${root}/s${i}`, { max_upload_rate: "20MB/s" }, boot.address)
      ),
    );
    nodes.push(...seeders);
    const leecherDir = `${root}/leecher`;
    const item = await world.item(src, "capped-1.0", `${leecherDir}/store`);
    for (const s of seeders) await waitForPeers(s, 1);
    for (const s of seeders) await seedCopy(s, src, item.baseName, { link: true, wait: false });
    const leecher = await benchNode(
      "leecher",
      leecherDir,
      world.leecherSettings(`${leecherDir}/store`),
      boot.address,
    );
    nodes.push(leecher);
    await waitForPeers(leecher, 5);
    await waitForProviders(leecher, item.storePath);
    loads.push(await loadAverage());
    const sub = await substitute(leecher, item.storePath);
    expectSuccess(sub, item, leecher);
    const ms = fetchMs(leecher);
    const peers = await leecher.json<PeerRow[]>(["peers"]);
    const shares = seeders.map((s) => peers.find((p) => p.peerId === s.peerId)?.bytesDown ?? 0);
    const cap = 4 * 20e6;
    console.log(
      `\n### 4 seeders capped at 20 MB/s → 1 leecher, NAR ${(item.narSize / MiB).toFixed(0)} MiB\n`,
    );
    table(["measure", "MB/s", "vs 80 MB/s of caps"], [
      [
        "daemon fetch",
        mbps(item.narSize, ms).toFixed(1),
        (item.narSize / (ms / 1000) / cap).toFixed(2),
      ],
      [
        "end to end (helper)",
        mbps(item.narSize, sub.ms).toFixed(1),
        (item.narSize / (sub.ms / 1000) / cap).toFixed(2),
      ],
    ]);
    console.log(
      `\nshares of the wire bytes: ${
        shares.map((b) => `${(100 * b / shares.reduce((x, y) => x + y, 0)).toFixed(0)} %`).join(
          ", ",
        )
      }; wire ${(shares.reduce((x, y) => x + y, 0) / item.narSize).toFixed(3)} × NAR`,
    );
  } finally {
    await Promise.all(nodes.map((n) => n.daemon.stop().catch(() => {})));
  }
}

async function flash(world: P2pWorld, src: string): Promise<void> {
  const root = world.root;
  const boot = await benchNode("boot", `${root}/boot`, {});
  const nodes: SwarmNode[] = [boot];
  try {
    const seeder = await benchNode("seeder", `${root}/seeder`, {}, boot.address);
    nodes.push(seeder);
    await waitForPeers(seeder, 1);
    // One item (store path) per leecher, all with the same NAR: one DHT key, one swarm.
    const items: FixtureItem[] = [];
    for (let i = 0; i <= crowd; i++) {
      items.push(await world.item(src, "crowd-1.0", `${root}/l${i}/store`));
    }
    await seedCopy(seeder, src, items[0]!.baseName, { link: true, wait: false });
    const upTotal = async () =>
      (await seeder.json<PeerRow[]>(["peers"])).reduce((n, p) => n + p.bytesUp, 0);

    // Baseline: one leecher alone, then stopped (it would serve the crowd).
    const single = await benchNode(
      "l0",
      `${root}/l0`,
      world.leecherSettings(`${root}/l0/store`),
      boot.address,
    );
    await waitForPeers(single, 2);
    await waitForProviders(single, items[0]!.storePath);
    loads.push(await loadAverage());
    const up0 = await upTotal();
    const s0 = await procStats(seeder.daemon.child.pid);
    const alone = await substitute(single, items[0]!.storePath);
    expectSuccess(alone, items[0]!, single);
    const aloneCpu = (await procStats(single.daemon.child.pid)).cpu + alone.helperCpu;
    const up1 = await upTotal();
    await single.daemon.stop();
    console.error(`single leecher: ${(alone.ms / 1000).toFixed(1)} s`);

    const leechers = await Promise.all(
      Array.from({ length: crowd }, (_, k) =>
        benchNode(
          `l${k + 1}`,
          `${root}/l${k + 1}`,
          world.leecherSettings(`${root}/l${k + 1}/store`),
          boot.address,
        )),
    );
    nodes.push(...leechers);
    for (const l of leechers) await waitForPeers(l, 2);
    loads.push(await loadAverage());
    const t0 = performance.now();
    const done: number[] = [];
    const subs = await Promise.all(leechers.map(async (l, k) => {
      const sub = await substitute(l, items[k + 1]!.storePath);
      done.push(performance.now() - t0);
      expectSuccess(sub, items[k + 1]!, l);
      return sub;
    }));
    const all = performance.now() - t0;
    loads.push(await loadAverage());
    const up2 = await upTotal();
    const s1 = await procStats(seeder.daemon.child.pid);
    const crowdCpu = (await Promise.all(leechers.map((l) => procStats(l.daemon.child.pid))))
      .reduce((n, s) => n + s.cpu, 0) + subs.reduce((n, s) => n + s.helperCpu, 0);
    const narSize = items[0]!.narSize;
    // What the leechers got from each other (wire bytes, as their peers tables count them).
    const ids = new Set(leechers.map((l) => l.peerId));
    const fromLeechers = (await Promise.all(leechers.map((l) => l.json<PeerRow[]>(["peers"]))))
      .flat().filter((p) => ids.has(p.peerId)).reduce((n, p) => n + p.bytesDown, 0);
    console.log(
      `\n### flash crowd: 1 seeder, ${crowd} leechers together, NAR ${
        (narSize / MiB).toFixed(0)
      } MiB\n`,
    );
    table(["measure", "value", "ratio", "target"], [
      ["single leecher alone (baseline), s", (alone.ms / 1000).toFixed(1), "1.00", ""],
      [
        `${crowd} leechers: first done, s`,
        (Math.min(...done) / 1000).toFixed(1),
        (Math.min(...done) / alone.ms).toFixed(2),
        "",
      ],
      [
        `${crowd} leechers: all done, s`,
        (all / 1000).toFixed(1),
        (all / alone.ms).toFixed(2),
        "≤ 3",
      ],
      ["seeder upload, single leecher, × NAR", ((up1 - up0) / narSize).toFixed(2), "", ""],
      ["seeder upload, crowd, × NAR", ((up2 - up1) / narSize).toFixed(2), "", "≤ 3"],
      ["leechers from each other, × NAR", (fromLeechers / narSize).toFixed(2), "", ""],
      [
        "leecher + helper CPU per leecher, s (alone → in the crowd)",
        `${aloneCpu.toFixed(1)} → ${(crowdCpu / crowd).toFixed(1)}`,
        "",
        "",
      ],
      ["seeder CPU during the whole run, s", (s1.cpu - s0.cpu).toFixed(1), "", ""],
    ]);
  } finally {
    await Promise.all(nodes.map((n) => n.daemon.stop().catch(() => {})));
  }
}

for (const scenario of scenarios) {
  const root = await Deno.makeTempDir({ dir: base, prefix: `p2p-bench-${scenario}-` });
  await using world = await p2pWorld(root);
  const src = await incompressibleTree(`${root}/item`, bytes);
  if (scenario === "capped") await capped(world, src);
  else if (scenario === "flash") await flash(world, src);
  else throw new Error(`unknown scenario ${JSON.stringify(scenario)} (capped, flash)`);
}
console.log(`\nload average 1 min during the runs: ${loads.map((l) => l.toFixed(1)).join(", ")}`);
