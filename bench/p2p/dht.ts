/**
 * Provider lookup latency in a local swarm of daemon processes (issue "The
 * P2P swarm", target 6): N daemons on 127.0.0.1 (one process each) that know
 * only node 0's address; a few nodes seed a small item each (provider records
 * published through the DHT); then every other node looks each item up
 * through its control socket, as the helper's `have` does under p2p-only
 * (the daemon's `countProviders`: a Kademlia GET_PROVIDERS walk until one
 * provider is found). The baseline, measured on the same node right before,
 * is the same lookup under p2p-first (narinfo from the daemon's cache, no
 * DHT), so "DHT part" = p2p-only − p2p-first. Also reported: time to start
 * and settle the swarm, each daemon's RSS and CPU, and the provide times.
 *
 * Usage: `./dev bench p2p/dht [--nodes 30] [--items 3] [--dir /tmp]`
 *
 * @module
 */
import { ControlClient } from "../../src/control/client.ts";
import { connectControlSocket } from "../../src/control/deno_socket.ts";
import { parseFlags } from "../../src/std/cli.ts";
import type { SwarmNode } from "../../tests/support/swarm.ts";
import { loadAverage, median, MiB, percentile, procStats, table } from "../measure.ts";
import { benchNode, seedCopy } from "../../tests/support/swarm.ts";
import { incompressibleTree } from "../../tests/support/tree_gen.ts";
import { p2pWorld } from "../../tests/support/p2p_world.ts";

const { flags } = parseFlags(Deno.args, { string: ["nodes", "items", "dir"] });
const count = Number(flags.nodes ?? "30");
const items = Number(flags.items ?? "3");
const base = flags.dir ?? "/tmp";

interface Status {
  p2p: { dhtPeers: number; connections: number };
}

const root = await Deno.makeTempDir({ dir: base, prefix: "p2p-bench-dht-" });
await using world = await p2pWorld(root);
const loads = [await loadAverage()];
const nodes: SwarmNode[] = [];
try {
  const t0 = performance.now();
  nodes.push(
    await benchNode("n0", `${root}/n0`, {
      ...world.leecherSettings(`${root}/store`),
      log_level: "debug",
    }),
  );
  // Started a few at a time: 30 deno start-ups at once on 2 cores time out.
  for (let i = 1; i < count; i += 4) {
    const batch = [];
    for (let k = i; k < Math.min(count, i + 4); k++) {
      batch.push(
        benchNode(
          `n${k}`,
          `${root}/n${k}`,
          { ...world.leecherSettings(`${root}/store`), log_level: "debug" },
          nodes[0]!.address,
        ),
      );
    }
    nodes.push(...await Promise.all(batch));
  }
  const startedMs = performance.now() - t0;
  console.error(`${count} daemons started in ${(startedMs / 1000).toFixed(1)} s`);
  // Settled: every routing table holds at least min(10, N-1) peers (bounded wait).
  const want = Math.min(10, count - 1);
  const deadline = Date.now() + 120_000;
  let sizes: number[] = [];
  for (;;) {
    sizes = await Promise.all(
      nodes.map((n) => n.json<Status>(["status"]).then((s) => s.p2p.dhtPeers)),
    );
    if (sizes.every((s) => s >= want) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const settledMs = performance.now() - t0;
  console.error(
    `routing tables ${Math.min(...sizes)}–${Math.max(...sizes)} peers after ${
      (settledMs / 1000).toFixed(1)
    } s`,
  );
  loads.push(await loadAverage());

  // Items seeded on the last nodes.
  const published: { storePath: string; provider: number; provideMs: number }[] = [];
  for (let j = 0; j < items; j++) {
    const provider = count - 1 - j;
    const node = nodes[provider]!;
    const src = await incompressibleTree(`${root}/item-${j}`, MiB, 100 + j);
    // Every node has the same store_dir, so one signed narinfo serves them all.
    const item = await world.item(src, `dht-item-${j}`, `${root}/store`);
    await seedCopy(node, src, item.baseName, { link: true, timeoutMs: 120_000 });
    const line = node.daemon.log.filter((l) => /announced /.test(l)).pop() ?? "";
    published.push({
      storePath: item.storePath,
      provider,
      provideMs: Number(/in (\d+) ms/.exec(line)?.[1] ?? NaN),
    });
  }

  const dht: number[] = [];
  const baseline: number[] = [];
  let failures = 0;
  for (const [k, node] of nodes.entries()) {
    const client = new ControlClient(await connectControlSocket(node.daemon.socketPath));
    try {
      for (const p of published) {
        if (p.provider === k) continue;
        let t = performance.now();
        await client.lookup([p.storePath], { policy: "p2p-first" });
        const warm = performance.now() - t;
        t = performance.now();
        const [found] = await client.lookup([p.storePath], { policy: "p2p-first" });
        const narinfoOnly = performance.now() - t;
        t = performance.now();
        const [withProviders] = await client.lookup([p.storePath], { policy: "p2p-only" });
        const total = performance.now() - t;
        if (found?.kind !== "found" || withProviders?.kind !== "found") {
          failures++;
          console.error(
            `  n${k}: lookup of ${p.storePath} failed: ${JSON.stringify(withProviders)}`,
          );
          continue;
        }
        void warm;
        baseline.push(narinfoOnly);
        dht.push(Math.max(0, total - narinfoOnly));
      }
    } finally {
      client.close();
    }
  }
  loads.push(await loadAverage());
  const stats = await Promise.all(nodes.map((n) => procStats(n.daemon.child.pid)));
  const rss = stats.map((s) => s.rssKiB / 1024);
  const cpu = stats.map((s) => s.cpu);
  const conns = (await Promise.all(nodes.map((n) => n.json<Status>(["status"])))).map((s) => s.p2p);

  console.log(
    `\n${count} daemon processes, ${published.length} items, ${dht.length} lookups (${failures} failed); load average 1 min: ${
      loads.map((l) => l.toFixed(1)).join(", ")
    }\n`,
  );
  table(["measure", "p50", "p90", "max"], [
    [
      "lookup under p2p-first (narinfo cached, no DHT; baseline), ms",
      median(baseline).toFixed(1),
      percentile(baseline, 90).toFixed(1),
      Math.max(...baseline).toFixed(1),
    ],
    [
      "provider lookup (p2p-only − p2p-first), ms",
      median(dht).toFixed(0),
      percentile(dht, 90).toFixed(0),
      Math.max(...dht).toFixed(0),
    ],
    [
      "provide (announce) on a seeder, ms",
      median(published.map((p) => p.provideMs)).toFixed(0),
      "",
      Math.max(...published.map((p) => p.provideMs)).toFixed(0),
    ],
    [
      "daemon RSS, MB",
      median(rss).toFixed(0),
      percentile(rss, 90).toFixed(0),
      Math.max(...rss).toFixed(0),
    ],
    [
      "daemon CPU since start, s",
      median(cpu).toFixed(1),
      percentile(cpu, 90).toFixed(1),
      Math.max(...cpu).toFixed(1),
    ],
    [
      "connections per daemon",
      median(conns.map((c) => c.connections)),
      percentile(conns.map((c) => c.connections), 90),
      Math.max(...conns.map((c) => c.connections)),
    ],
    ["DHT routing table size", median(sizes), percentile(sizes, 90), Math.max(...sizes)],
  ]);
  console.log(
    `\nswarm started in ${(startedMs / 1000).toFixed(1)} s, settled in ${
      (settledMs / 1000).toFixed(1)
    } s; total RSS ${(rss.reduce((a, b) => a + b, 0) / 1024).toFixed(1)} GB, total CPU ${
      cpu.reduce((a, b) => a + b, 0).toFixed(0)
    } s`,
  );
} finally {
  await Promise.all(nodes.map((n) => n.daemon.stop().catch(() => {})));
}
