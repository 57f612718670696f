/**
 * Memory of the leecher daemon fetching a large NAR from a peer (issue "The
 * P2P swarm", target 5): peak RSS (`VmHWM` from /proc) of the leecher daemon
 * and of the helper for one substitution of an incompressible `--mib` NAR
 * (default 2 GiB) from one seeder, through the guix-daemon emulator (policy
 * p2p-only). The baseline is the same daemon's VmHWM just before the
 * substitution (started, joined the DHT, idle), measured in the same run.
 *
 * Usage: `./dev bench p2p/memory [--mib 2048] [--dir /tmp] [--inspect]` (`--inspect`: also
 * the leecher's `Deno.memoryUsage()` peaks, sampled every 100 ms over the V8 inspector)
 *
 * @module
 */
import { parseFlags } from "../../src/std/cli.ts";
import { profiledDeno, sampleMemory } from "./_profile.ts";
import { loadAverage, mbps, MiB, procStats, table } from "../measure.ts";
import { benchNode, seedCopy, waitForPeers, waitForProviders } from "../../tests/support/swarm.ts";
import { incompressibleTree } from "../../tests/support/tree_gen.ts";
import { substitute } from "./_substitute.ts";
import { p2pWorld } from "../../tests/support/p2p_world.ts";

const { flags } = parseFlags(Deno.args, { string: ["mib", "dir"], boolean: ["inspect"] });
const bytes = Number(flags.mib ?? "2048") * MiB;
const base = flags.dir ?? "/tmp";
const inspect = flags.inspect === true;
if (inspect) Deno.env.set("GUIX_P2P_DENO", await profiledDeno(`${base}/p2p-bench-profile`));

const root = await Deno.makeTempDir({ dir: base, prefix: "p2p-bench-mem-" });
await using world = await p2pWorld(root);
const src = await incompressibleTree(`${root}/item`, bytes);
const item = await world.item(src, "big-1.0", `${root}/leecher/store`);
const boot = await benchNode("boot", `${root}/boot`, {});
const nodes = [boot];
try {
  const seeder = await benchNode("seeder", `${root}/seeder`, {}, boot.address);
  nodes.push(seeder);
  await waitForPeers(seeder, 1);
  await seedCopy(seeder, src, item.baseName, { link: true, wait: false });
  const leecher = await benchNode(
    "leecher",
    `${root}/leecher`,
    world.leecherSettings(`${root}/leecher/store`),
    boot.address,
  );
  nodes.push(leecher);
  await waitForPeers(leecher, 2);
  await waitForProviders(leecher, item.storePath);
  const load0 = await loadAverage();
  const before = await procStats(leecher.daemon.child.pid);
  const seederBefore = await procStats(seeder.daemon.child.pid);
  const sampler = inspect ? await sampleMemory(leecher.daemon.child.pid) : undefined;
  const sub = await substitute(leecher, item.storePath);
  const peaks = await sampler?.stop();
  if (sub.status !== `success ${item.narHash} ${item.narSize}`) {
    throw new Error(`substitution failed: ${sub.status}`);
  }
  const after = await procStats(leecher.daemon.child.pid);
  const seederAfter = await procStats(seeder.daemon.child.pid);
  const load1 = await loadAverage();
  console.log(
    `\n### leecher memory, 1 seeder → 1 leecher, NAR ${(item.narSize / MiB).toFixed(0)} MiB (${
      mbps(item.narSize, sub.ms).toFixed(0)
    } MB/s end to end; load average ${load0.toFixed(1)} → ${load1.toFixed(1)})\n`,
  );
  table(["process", "VmHWM, MB", "vs idle daemon", "CPU s"], [
    ["leecher daemon, idle before (baseline)", (before.hwmKiB / 1024).toFixed(0), "1.00", ""],
    [
      "leecher daemon, after the fetch",
      (after.hwmKiB / 1024).toFixed(0),
      (after.hwmKiB / before.hwmKiB).toFixed(2),
      (after.cpu - before.cpu).toFixed(1),
    ],
    [
      "seeder daemon, after serving",
      (seederAfter.hwmKiB / 1024).toFixed(0),
      "",
      (seederAfter.cpu - seederBefore.cpu).toFixed(1),
    ],
    [
      "helper (restore + verify)",
      (sub.helperHwmKiB / 1024).toFixed(0),
      "",
      sub.helperCpu.toFixed(1),
    ],
  ]);
  if (peaks) {
    const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;
    console.log(
      `\nleecher Deno.memoryUsage() peaks (${peaks.samples} samples): rss ${mb(peaks.rss)}, ` +
        `heapTotal ${mb(peaks.heapTotal)}, heapUsed ${mb(peaks.heapUsed)}, external ${
          mb(peaks.external)
        }`,
    );
  }
} finally {
  await Promise.all(nodes.map((n) => n.daemon.stop().catch(() => {})));
}
