/**
 * Provider upkeep of a node that seeds thousands of items (issue 12: "measure
 * messages and bytes per hour for 5,000 seeded items"). One real daemon (the
 * seeder) joins a DHT of `--observers` in-process libp2p nodes (kad-dht
 * server mode on guix-p2p's protocol id), each counting, per protocol, the
 * streams the seeder opens to it — one kad-dht message (request and answer)
 * each — and the payload bytes on them (by wrapping the protocol handlers;
 * Noise and Yamux framing, a few per cent, are not counted). The seeder's store holds `--items` small items; `guix-p2p seed
 * --store` indexes them and every one is announced (ADD_PROVIDER after a
 * closest-peers walk). Reported, per run:
 *
 * - the **announce burst**: from `seed --store` until every item is
 *   announced (`announced …` log lines), messages and bytes, per item;
 * - **steady state**: the traffic in a `--window` of seconds afterwards,
 *   with kad-dht republishing records as `reprovide_interval` says (`--reprovide`,
 *   default the daemon's default of 12 h; a short interval measures the cost
 *   of republishing, which the default spreads over 12 h);
 * - per hour: the window's rate × 3600.
 *
 * `--pace off` sets the seeder's `dht_provider_rate` out of reach, which
 * lifts the pacing of announcements (half of it per second): the baseline.
 *
 * Usage: `./dev bench seed_upkeep [--items 5000] [--observers 20] [--window 300]
 *        [--reprovide 12h] [--pace on|off] [--dir /tmp]`
 *
 * @module
 */
import "../src/p2p/runtime_patches.ts";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { identify } from "@libp2p/identify";
import type { Connection, Stream } from "@libp2p/interface";
import { kadDHT, passthroughMapper } from "@libp2p/kad-dht";
import { ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { multiaddr } from "@multiformats/multiaddr";
import { createLibp2p, type Libp2p } from "libp2p";
import { parseFlags } from "../src/std/cli.ts";
import { startNode, type SwarmNode } from "../tests/support/swarm.ts";
import { forceRemove } from "../tests/support/tree_check.ts";
import { loadAverage, procStats, table } from "./_p2p_world.ts";

const { flags } = parseFlags(Deno.args, {
  string: ["items", "observers", "window", "reprovide", "pace", "dir"],
});
const ITEMS = Number(flags.items ?? "5000");
const OBSERVERS = Number(flags.observers ?? "20");
const WINDOW_S = Number(flags.window ?? "300");
const REPROVIDE = flags.reprovide ?? "12h";
const PACE = (flags.pace ?? "on") !== "off";
const KAD = "/guix-p2p/kad/1.0.0";
const PROTOCOLS = [KAD, "/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0", "/ipfs/ping/1.0.0"];

/** Traffic the seeder starts, seen by the observers. */
interface Count {
  /** Streams the seeder opened (its requests: one message each for kad-dht), by protocol. */
  fromSeeder: Map<string, number>;
  /** Payload bytes both ways on those streams (requests and answers). */
  bytes: number;
}

const count: Count = { fromSeeder: new Map(), bytes: 0 };
let seederId = "";

function snapshot(): { msgs: number; kad: number; bytes: number } {
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  return {
    msgs: sum(count.fromSeeder),
    kad: count.fromSeeder.get(KAD) ?? 0,
    bytes: count.bytes,
  };
}

function countStream(stream: Stream, connection: Connection): void {
  if (connection.remotePeer.toString() !== seederId) return;
  count.fromSeeder.set(stream.protocol, (count.fromSeeder.get(stream.protocol) ?? 0) + 1);
  stream.addEventListener("message", (e) => {
    count.bytes += (e as unknown as { data: { byteLength: number } }).data.byteLength;
  });
  const send = stream.send.bind(stream);
  stream.send = (data) => {
    count.bytes += data.byteLength;
    return send(data);
  };
}

async function observer(): Promise<Libp2p> {
  const node = await createLibp2p({
    privateKey: await generateKeyPair("Ed25519"),
    addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // All on 127.0.0.1: exempt from the per-host inbound connection rate.
    connectionManager: { maxConnections: 200, allow: ["/ip4/127.0.0.0/ipcidr/8"] },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({ protocol: KAD, clientMode: false, peerInfoMapper: passthroughMapper }),
    },
  });
  // Count by wrapping each protocol's handler (stream middleware would be
  // simpler, but libp2p 3.3.11 appends the handler to the registered
  // middleware array on every inbound stream: handlers pile up).
  const registrar = (node as unknown as {
    components: {
      registrar: {
        getHandler(p: string): {
          handler: (s: Stream, c: Connection) => void | Promise<void>;
          options: Record<string, unknown>;
        };
      };
    };
  }).components.registrar;
  for (const p of PROTOCOLS) {
    let record;
    try {
      record = registrar.getHandler(p);
    } catch {
      continue; // not handled by this node
    }
    const { handler, options } = record;
    await node.handle(p, (stream, connection) => {
      countStream(stream, connection);
      return handler(stream, connection);
    }, { ...options, force: true });
  }
  return node;
}

async function makeStore(store: string, n: number): Promise<void> {
  await Deno.mkdir(store, { recursive: true });
  const alphabet = "0123456789abcdfghijklmnpqrsvwxyz";
  for (let i = 0; i < n; i++) {
    let hash = "";
    const r = crypto.getRandomValues(new Uint8Array(32));
    for (const b of r) hash += alphabet[b % 32];
    await Deno.writeTextFile(`${store}/${hash}-item-${i}`, `item ${i} ${hash}\n`);
  }
}

function logCount(node: SwarmNode, re: RegExp): number {
  return node.daemon.log.filter((l) => re.test(l)).length;
}

async function until(what: string, f: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const root = await Deno.makeTempDir({ dir: flags.dir ?? "/tmp", prefix: "seed-upkeep-" });
const observers: Libp2p[] = [];
let seeder: SwarmNode | undefined;
const loads = [await loadAverage()];
try {
  for (let i = 0; i < OBSERVERS; i++) observers.push(await observer());
  const first = observers[0]!;
  const firstAddr = `${first.getMultiaddrs()[0]}`;
  for (const o of observers.slice(1)) await o.dial(multiaddr(firstAddr));
  await makeStore(`${root}/store`, ITEMS);
  seeder = await startNode("seeder", `${root}/seeder`, {
    store_dir: `${root}/store`,
    log_level: "debug",
    reprovide_interval: REPROVIDE,
    ...(PACE ? {} : { dht_provider_rate: 1_000_000 }),
  }, firstAddr);
  seederId = seeder.peerId;
  // Settled: the seeder's routing table holds most observers (bounded wait).
  const want = Math.ceil(Math.min(10, OBSERVERS) * 0.8);
  await until(
    `${want} peers in the seeder's routing table`,
    async () => {
      const s = await seeder!.json<{ p2p: { dhtPeers: number; connections: number } }>([
        "status",
      ]);
      const rt = observers.map((o) =>
        (o.services as unknown as { dht: { routingTable: { size: number } } }).dht.routingTable.size
      );
      if (Deno.env.get("VERBOSE")) {
        console.error(
          `seeder: ${s.p2p.dhtPeers} DHT peers, ${s.p2p.connections} connections; observers' tables ${rt}`,
        );
      }
      return s.p2p.dhtPeers >= want;
    },
    120_000,
  );
  const before = snapshot();
  const cpu0 = (await procStats(seeder.daemon.child.pid)).cpu;
  const t0 = performance.now();
  const seeded = await seeder.cli(["seed", "--store"]);
  if (seeded.code !== 0) throw new Error(`seed --store: ${seeded.stderr}`);
  const indexedMs = performance.now() - t0;
  // Every item announced (or failed): provide:done for each.
  await until(
    "every announcement",
    () => logCount(seeder!, /announc(ed|ing) [0-9a-f]{16}…/) >= ITEMS,
    3_600_000,
  );
  const burstMs = performance.now() - t0;
  const burst = snapshot();
  const failed = logCount(seeder, /announcing [0-9a-f]{16}… failed/);
  const cpu1 = (await procStats(seeder.daemon.child.pid)).cpu;
  loads.push(await loadAverage());
  // Steady state.
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const after = snapshot();
  const stats = await procStats(seeder.daemon.child.pid);
  loads.push(await loadAverage());
  const reprovided = logCount(seeder, /announced/) - ITEMS;

  const d = (a: ReturnType<typeof snapshot>, b: ReturnType<typeof snapshot>) => ({
    msgs: b.msgs - a.msgs,
    kad: b.kad - a.kad,
    bytes: b.bytes - a.bytes,
  });
  const B = d(before, burst);
  const W = d(burst, after);
  const perHour = (x: number) => Math.round(x * 3600 / WINDOW_S);
  console.log(
    `\n${ITEMS} items, ${OBSERVERS} observers, reprovide_interval ${REPROVIDE}, pacing ${
      PACE ? "on" : "off"
    }; load average ${loads.map((l) => l.toFixed(1)).join(" → ")}`,
  );
  console.log(
    `indexing (seed --store) ${(indexedMs / 1000).toFixed(1)} s; all announced after ${
      (burstMs / 1000).toFixed(1)
    } s (${failed} failed); seeder CPU ${(cpu1 - cpu0).toFixed(1)} s for the burst, RSS ${
      (stats.rssKiB / 1024).toFixed(0)
    } MiB (peak ${(stats.hwmKiB / 1024).toFixed(0)} MiB)\n`,
  );
  table(
    ["phase", "seeder's requests", "of which kad", "payload bytes", "per item"],
    [
      [
        `announce burst (${(burstMs / 1000).toFixed(0)} s)`,
        B.msgs,
        B.kad,
        B.bytes,
        `${(B.kad / ITEMS).toFixed(1)} msgs, ${(B.bytes / ITEMS).toFixed(0)} B`,
      ],
      [
        `steady, ${WINDOW_S} s (${reprovided} republished)`,
        W.msgs,
        W.kad,
        W.bytes,
        "",
      ],
      [
        "steady, per hour",
        perHour(W.msgs),
        perHour(W.kad),
        perHour(W.bytes),
        `${(perHour(W.bytes) / ITEMS).toFixed(0)} B`,
      ],
    ],
  );
} finally {
  await seeder?.daemon.stop().catch(() => {});
  for (const o of observers) await Promise.resolve(o.stop()).catch(() => {});
  await forceRemove(root);
}
