/**
 * P2P throughput, one seeder → one leecher, 1 GiB (issue "The P2P swarm",
 * targets 1 and 2), measured side by side in one run (rounds interleaved,
 * order rotated, best and median of N):
 *
 * - **guix-p2p**: two daemon processes on 127.0.0.1 (the leecher knows only
 *   the seeder's address); the guix-daemon emulator runs the real helper
 *   (`--substitute`, policy p2p-only, narinfo over HTTP, NAR refused over
 *   HTTP); timed from the `substitute` request to the status line: DHT lookup,
 *   manifest, blocks, per-block and whole-NAR verification, restore, rename.
 *   A fresh leecher daemon every round (nothing cached).
 * - **raw libp2p**: the same stack (TCP + Noise + Yamux) between two Deno
 *   processes, no protocol: one stream of the same byte count.
 * - **aria2c** (BitTorrent): seeder and leecher aria2c on loopback with a
 *   local tracker; steady-state rate (20 %→80 % of the bytes, piece SHA-1
 *   checks included) and total time.
 *
 * Two data sets: `random` (incompressible: every NAR byte crosses the wire)
 * and `binaries` (real files copied from /usr/lib and /usr/bin: blocks travel
 * zstd-compressed; the wire bytes are the leecher's `bytesDown`).
 *
 * Usage: `./dev bench p2p/throughput [--mib 1024] [--runs 3] [--data random,binaries]
 * [--no-aria2] [--dir /tmp] [--profile]`
 * (`--profile`: CPU profiles of both daemons during each substitution, on stderr)
 *
 * @module
 */
import { parseFlags } from "../../src/std/cli.ts";
import { forceRemove } from "../../tests/support/tree_check.ts";
import { rawClient, startRawServer } from "./_raw.ts";
import { leechWithAria2, makeTorrent, seedWithAria2, startTracker } from "./_torrent.ts";
import { profiledDeno, startProfile, summarize } from "./_profile.ts";
import { loadAverage, mbps, median, MiB, procStats, table } from "../measure.ts";
import { benchNode, seedCopy, waitForPeers, waitForProviders } from "../../tests/support/swarm.ts";
import { binaryTree, incompressibleTree } from "../../tests/support/tree_gen.ts";
import { substitute } from "./_substitute.ts";
import { p2pWorld } from "../../tests/support/p2p_world.ts";

const { flags } = parseFlags(Deno.args, {
  string: ["mib", "runs", "data", "dir"],
  boolean: ["no-aria2", "profile"],
});
const bytes = Number(flags.mib ?? "1024") * MiB;
const runs = Number(flags.runs ?? "3");
const dataSets = (flags.data ?? "random,binaries").split(",");
const withAria2 = !flags["no-aria2"];
const base = flags.dir ?? "/tmp";
const profiling = flags.profile === true;
if (profiling) Deno.env.set("GUIX_P2P_DENO", await profiledDeno(`${base}/p2p-bench-profile`));

interface PeerRow {
  peerId: string;
  bytesDown: number;
}

const loads: number[] = [];
const results: Record<string, (string | number)[][]> = {};

for (const data of dataSets) {
  const root = await Deno.makeTempDir({ dir: base, prefix: `p2p-bench-tp-${data}-` });
  await using world = await p2pWorld(root);
  const src = `${root}/item`;
  let treeBytes = bytes;
  if (data === "random") await incompressibleTree(src, bytes);
  else treeBytes = await binaryTree(src, bytes);
  const leecherDir = `${root}/leecher`;
  const item = await world.item(src, "bench-1.0", `${leecherDir}/store`);
  console.error(`${data}: NAR ${item.narSize} bytes (${treeBytes} bytes of files)`);

  // A bootstrap node that holds nothing: the leecher finds the seeder through the DHT.
  const boot = await benchNode("boot", `${root}/boot`, {});
  const seeder = await benchNode("seeder", `${root}/seeder`, {}, boot.address);
  try {
    await waitForPeers(seeder, 1);
    let t = performance.now();
    await seedCopy(seeder, src, item.baseName, { link: true, wait: false });
    console.error(`  seeded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    await using raw = await startRawServer(item.narSize);
    await using tracker = await startTracker();
    const torrentFile = `${root}/item.torrent`;
    let aria2Seeder: AsyncDisposable | undefined;
    if (withAria2) {
      t = performance.now();
      await Deno.writeFile(torrentFile, await makeTorrent(src, { announce: tracker.url }));
      console.error(`  torrent made in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      aria2Seeder = seedWithAria2(torrentFile, root, 46881);
    }
    try {
      const p2p: {
        ms: number;
        fetchMs: number;
        wire: number;
        cpuL: number;
        cpuS: number;
        cpuH: number;
      }[] = [];
      const rawRuns: { ms: number; cpu: number }[] = [];
      const ariaRuns: { totalMs: number; steady: number }[] = [];
      const rounds: (() => Promise<void>)[] = [
        async () => {
          const r = await rawClient(raw.address);
          if (r.bytes !== item.narSize) throw new Error(`raw: ${r.bytes} bytes`);
          rawRuns.push({ ms: r.ms, cpu: r.cpu });
          console.error(`  raw libp2p ${mbps(r.bytes, r.ms).toFixed(0)} MB/s`);
        },
        async () => {
          await forceRemove(leecherDir);
          const leecher = await benchNode(
            "leecher",
            leecherDir,
            world.leecherSettings(`${leecherDir}/store`),
            boot.address,
          );
          try {
            await waitForPeers(leecher, 2);
            await waitForProviders(leecher, item.storePath);
            const s0 = await procStats(seeder.daemon.child.pid);
            const l0 = await procStats(leecher.daemon.child.pid);
            const profiles = profiling
              ? [
                await startProfile(seeder.daemon.child.pid),
                await startProfile(leecher.daemon.child.pid),
              ]
              : [];
            const sub = await substitute(leecher, item.storePath, { profile: profiling });
            if (sub.helperProfile) console.error(`  profile of the helper:\n${sub.helperProfile}`);
            for (const [i, p] of profiles.entries()) {
              console.error(`  profile of the ${i ? "leecher" : "seeder"}:`);
              console.error(summarize(await p.stop(), 30));
            }
            if (sub.status !== `success ${item.narHash} ${item.narSize}`) {
              throw new Error(
                `substitution failed: ${sub.status}\n${leecher.daemon.log.join("\n")}`,
              );
            }
            const s1 = await procStats(seeder.daemon.child.pid);
            const l1 = await procStats(leecher.daemon.child.pid);
            const line = await leecher.daemon.waitForLog(/fetched .* in ([\d.]+) s from/);
            const fetchMs = Number(/in ([\d.]+) s from/.exec(line)![1]) * 1000;
            const peers = await leecher.json<PeerRow[]>(["peers"]);
            const wire = peers.find((p) => p.peerId === seeder.peerId)?.bytesDown ?? 0;
            p2p.push({
              ms: sub.ms,
              fetchMs,
              wire,
              cpuL: l1.cpu - l0.cpu,
              cpuS: s1.cpu - s0.cpu,
              cpuH: sub.helperCpu,
            });
            console.error(
              `  guix-p2p ${mbps(item.narSize, sub.ms).toFixed(0)} MB/s end to end, daemon fetch ${
                mbps(item.narSize, fetchMs).toFixed(0)
              } MB/s, wire ${(wire / item.narSize).toFixed(3)} × NAR`,
            );
          } finally {
            await leecher.daemon.stop();
            await forceRemove(leecherDir);
          }
        },
      ];
      if (withAria2) {
        rounds.push(async () => {
          const dir = `${root}/aria2-leech`;
          await forceRemove(dir);
          await Deno.mkdir(dir);
          const d = await leechWithAria2(torrentFile, dir, { listen: 46882, rpc: 46883 });
          await forceRemove(dir);
          ariaRuns.push({ totalMs: d.totalMs, steady: d.steadyBytesPerSecond });
          console.error(
            `  aria2c steady ${(d.steadyBytesPerSecond / 1e6).toFixed(0)} MB/s, total ${
              mbps(d.bytes, d.totalMs).toFixed(0)
            } MB/s`,
          );
        });
      }
      for (let r = 0; r < runs; r++) {
        loads.push(await loadAverage());
        for (let k = 0; k < rounds.length; k++) await rounds[(k + r) % rounds.length]!();
      }
      const best = (xs: number[]) => Math.min(...xs);
      const rawBest = best(rawRuns.map((x) => x.ms));
      const p2pBest = best(p2p.map((x) => x.ms));
      const rows: (string | number)[][] = [
        [
          "raw libp2p stream (baseline)",
          mbps(item.narSize, rawBest).toFixed(0),
          mbps(item.narSize, median(rawRuns.map((x) => x.ms))).toFixed(0),
          "1.00",
          "1.000",
          `client ${median(rawRuns.map((x) => x.cpu)).toFixed(1)}`,
        ],
        [
          "guix-p2p, end to end (helper restore + verify)",
          mbps(item.narSize, p2pBest).toFixed(0),
          mbps(item.narSize, median(p2p.map((x) => x.ms))).toFixed(0),
          (rawBest / p2pBest).toFixed(2),
          (median(p2p.map((x) => x.wire)) / item.narSize).toFixed(3),
          `leecher ${median(p2p.map((x) => x.cpuL)).toFixed(1)}, seeder ${
            median(p2p.map((x) => x.cpuS)).toFixed(1)
          }, helper ${median(p2p.map((x) => x.cpuH)).toFixed(1)}`,
        ],
        [
          "guix-p2p, daemon fetch only",
          mbps(item.narSize, best(p2p.map((x) => x.fetchMs))).toFixed(0),
          mbps(item.narSize, median(p2p.map((x) => x.fetchMs))).toFixed(0),
          (rawBest / best(p2p.map((x) => x.fetchMs))).toFixed(2),
          "",
          "",
        ],
      ];
      if (withAria2) {
        const steady = Math.max(...ariaRuns.map((x) => x.steady));
        rows.push([
          "aria2c (BitTorrent), steady state",
          (steady / 1e6).toFixed(0),
          (median(ariaRuns.map((x) => x.steady)) / 1e6).toFixed(0),
          (steady / 1e6 / mbps(item.narSize, rawBest)).toFixed(2),
          "",
          "",
        ]);
        rows.push([
          "aria2c (BitTorrent), total",
          mbps(treeBytes, best(ariaRuns.map((x) => x.totalMs))).toFixed(0),
          mbps(treeBytes, median(ariaRuns.map((x) => x.totalMs))).toFixed(0),
          (rawBest / best(ariaRuns.map((x) => x.totalMs)) * (treeBytes / item.narSize)).toFixed(2),
          "",
          "",
        ]);
        rows.push([
          "→ guix-p2p end to end / aria2c steady state",
          "",
          "",
          (mbps(item.narSize, p2pBest) / (steady / 1e6)).toFixed(2),
          "",
          "",
        ]);
      }
      results[`${data}, NAR ${(item.narSize / MiB).toFixed(0)} MiB`] = rows;
    } finally {
      await aria2Seeder?.[Symbol.asyncDispose]();
    }
  } finally {
    await seeder.daemon.stop();
    await boot.daemon.stop();
  }
}

console.log(
  `\n1 seeder → 1 leecher, best of ${runs} (median beside it); load average 1 min: ${
    loads.map((l) => l.toFixed(1)).join(", ")
  }\n`,
);
for (const [name, rows] of Object.entries(results)) {
  console.log(`### ${name}\n`);
  table(
    ["transfer", "MB/s best", "MB/s median", "speed vs raw", "wire / NAR", "CPU s (median)"],
    rows,
  );
  console.log();
}
