/**
 * Provider upkeep of a node that seeds thousands of items (issue 12: "measure
 * messages and bytes per hour for 5,000 seeded items"). One real daemon (the
 * seeder) joins a DHT of `--observers` libp2p nodes (kad-dht server mode on
 * guix-p2p's protocol id, spread over `--procs` processes: bench/p2p/upkeep_observer_child.ts),
 * each counting, per protocol, the streams the seeder opens to it — one
 * kad-dht message (request and answer) each — and the payload bytes on them
 * (by wrapping the protocol handlers; Noise and Yamux framing, a few per
 * cent, are not counted). The seeder's store holds `--items` small items;
 * `guix-p2p seed --store` indexes them and every one is announced
 * (ADD_PROVIDER to the closest peers after a closest-peers walk). Reported,
 * per run:
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
 * Usage: `./dev bench p2p/seed_upkeep [--items 5000] [--observers 20] [--procs 4]
 *        [--window 300] [--reprovide 12h] [--pace on|off] [--dir /tmp]`
 *
 * @module
 */
import { parseFlags } from "../../src/std/cli.ts";
import { startNode, type SwarmNode } from "../../tests/support/swarm.ts";
import { forceRemove } from "../../tests/support/tree_check.ts";
import { loadAverage, procStats, table } from "../measure.ts";

const { flags } = parseFlags(Deno.args, {
  string: ["items", "observers", "procs", "window", "reprovide", "pace", "dir"],
});
const ITEMS = Number(flags.items ?? "5000");
const OBSERVERS = Number(flags.observers ?? "20");
const PROCS = Math.min(OBSERVERS, Number(flags.procs ?? "4"));
const WINDOW_S = Number(flags.window ?? "300");
const REPROVIDE = flags.reprovide ?? "12h";
const PACE = (flags.pace ?? "on") !== "off";
const KAD = "/guix-p2p/kad/1.0.0";

/** One observer process (bench/p2p/upkeep_observer_child.ts). */
interface ObserverProc {
  child: Deno.ChildProcess;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  out: string;
  address: string;
}

interface Counts {
  streams: Record<string, number>;
  kadTypes: Record<string, number>;
  maxAddProviderPerSecond: number;
  bytes: number;
  stray: number;
  tables: number[];
}

async function spawnObserver(
  root: string,
  i: number,
  nodes: number,
  bootstrap?: string,
): Promise<ObserverProc> {
  const out = `${root}/observer-${i}.json`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--frozen",
      "--no-prompt",
      "-A",
      new URL("./upkeep_observer_child.ts", import.meta.url).pathname,
      "--nodes",
      String(nodes),
      "--out",
      out,
      ...(bootstrap ? ["--bootstrap", bootstrap] : []),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/ready (\S+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`observer ${i} exited before it was ready`);
    text += value;
  }
  void (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return { child, stdin: child.stdin.getWriter(), out, address: /ready (\S+)/.exec(text)![1]! };
}

async function readCounts(procs: ObserverProc[]): Promise<Counts[]> {
  return await Promise.all(procs.map(async (p) => {
    try {
      return JSON.parse(await Deno.readTextFile(p.out)) as Counts;
    } catch {
      return {
        streams: {},
        kadTypes: {},
        maxAddProviderPerSecond: 0,
        bytes: 0,
        stray: 0,
        tables: [],
      };
    }
  }));
}

async function snapshot(procs: ObserverProc[]) {
  const all = await readCounts(procs);
  let msgs = 0, kad = 0, bytes = 0, stray = 0, addProvider = 0, peakAdd = 0;
  for (const c of all) {
    addProvider += c.kadTypes.ADD_PROVIDER ?? 0;
    peakAdd = Math.max(peakAdd, c.maxAddProviderPerSecond);
    for (const [p, n] of Object.entries(c.streams)) {
      msgs += n;
      if (p === KAD) kad += n;
    }
    bytes += c.bytes;
    stray += c.stray;
  }
  return { msgs, kad, bytes, stray, addProvider, peakAdd };
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
const observers: ObserverProc[] = [];
let seeder: SwarmNode | undefined;
const loads = [loadAverage()];
try {
  // Observers in several processes: one JavaScript thread for all would be the bottleneck.
  const per = (i: number) => Math.floor(OBSERVERS / PROCS) + (i < OBSERVERS % PROCS ? 1 : 0);
  observers.push(await spawnObserver(root, 0, per(0)));
  const firstAddr = observers[0]!.address;
  for (let i = 1; i < PROCS; i++) observers.push(await spawnObserver(root, i, per(i), firstAddr));
  await makeStore(`${root}/store`, ITEMS);
  seeder = await startNode("seeder", `${root}/seeder`, {
    store_dir: `${root}/store`,
    log_level: "debug",
    reprovide_interval: REPROVIDE,
    ...(PACE ? {} : { dht_provider_rate: 1_000_000 }),
  }, firstAddr);
  for (const o of observers) {
    await o.stdin.write(new TextEncoder().encode(`watch ${seeder.peerId}\n`));
  }
  // Settled: the seeder's routing table holds most observers (bounded wait).
  const want = Math.ceil(Math.min(10, OBSERVERS) * 0.8);
  await until(
    `${want} peers in the seeder's routing table`,
    async () => {
      const s = await seeder!.json<{ p2p: { dhtPeers: number; connections: number } }>([
        "status",
      ]);
      const rt = (await readCounts(observers)).flatMap((c) => c.tables);
      if (Deno.env.get("VERBOSE")) {
        console.error(
          `seeder: ${s.p2p.dhtPeers} DHT peers, ${s.p2p.connections} connections; observers' tables ${rt}`,
        );
      }
      return s.p2p.dhtPeers >= want;
    },
    120_000,
  );
  const before = await snapshot(observers);
  const cpu0 = procStats(seeder.daemon.child.pid).cpu;
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
  // The observers write their counts every second, and the last ADD_PROVIDERs
  // of a provide may still be on their way when it is logged as done.
  await new Promise((r) => setTimeout(r, 3000));
  const burst = await snapshot(observers);
  const failed = logCount(seeder, /announcing [0-9a-f]{16}… failed/);
  const cpu1 = procStats(seeder.daemon.child.pid).cpu;
  loads.push(loadAverage());
  // Steady state.
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const after = await snapshot(observers);
  const stats = procStats(seeder.daemon.child.pid);
  loads.push(loadAverage());
  const reprovided = logCount(seeder, /announced [0-9a-f]{16}…/) - (ITEMS - failed);
  const reasons = new Map<string, number>();
  for (const l of seeder.daemon.log) {
    const m = /announcing [0-9a-f]{16}… failed: (.*)$/.exec(l);
    if (m) reasons.set(m[1]!.slice(0, 100), (reasons.get(m[1]!.slice(0, 100)) ?? 0) + 1);
  }

  type Snap = Awaited<ReturnType<typeof snapshot>>;
  const d = (a: Snap, b: Snap) => ({
    msgs: b.msgs - a.msgs,
    kad: b.kad - a.kad,
    add: b.addProvider - a.addProvider,
    bytes: b.bytes - a.bytes,
  });
  const B = d(before, burst);
  const W = d(burst, after);
  const perHour = (x: number) => Math.round(x * 3600 / WINDOW_S);
  console.log(
    `\n${ITEMS} items, ${OBSERVERS} observers in ${PROCS} processes, reprovide_interval ${REPROVIDE}, pacing ${
      PACE ? "on" : "off"
    }; load average ${loads.map((l) => l.toFixed(1)).join(" → ")}`,
  );
  console.log(
    `indexing (seed --store) ${(indexedMs / 1000).toFixed(1)} s; all announced after ${
      (burstMs / 1000).toFixed(1)
    } s (${failed} failed); seeder CPU ${(cpu1 - cpu0).toFixed(1)} s for the burst, RSS ${
      (stats.rssKiB / 1024).toFixed(0)
    } MiB (peak ${(stats.hwmKiB / 1024).toFixed(0)} MiB)`,
  );
  for (const [why, n] of reasons) console.log(`  ${n} announcement(s) failed: ${why}`);
  if (after.stray > 0) console.log(`  observers: ${after.stray} stray libp2p rejection(s)`);
  console.log(
    `  most ADD_PROVIDER one observer got from the seeder in one second: ${burst.peakAdd} (our daemons accept dht_provider_rate = 50/s after a burst of 1000)`,
  );
  console.log();
  table(
    ["phase", "seeder's requests", "of which kad", "ADD_PROVIDER", "payload bytes", "per item"],
    [
      [
        `announce burst (${(burstMs / 1000).toFixed(0)} s)`,
        B.msgs,
        B.kad,
        B.add,
        B.bytes,
        `${(B.kad / ITEMS).toFixed(1)} msgs, ${(B.bytes / ITEMS).toFixed(0)} B`,
      ],
      [
        `steady, ${WINDOW_S} s (${reprovided} republished)`,
        W.msgs,
        W.kad,
        W.add,
        W.bytes,
        "",
      ],
      [
        "steady, per hour",
        perHour(W.msgs),
        perHour(W.kad),
        perHour(W.add),
        perHour(W.bytes),
        `${(perHour(W.bytes) / ITEMS).toFixed(0)} B`,
      ],
    ],
  );
} finally {
  await seeder?.daemon.stop().catch(() => {});
  for (const o of observers) {
    await o.stdin.close().catch(() => {});
    await o.child.status;
  }
  await forceRemove(root);
}
