/**
 * Closure benchmark (issue 9): a Guix-like closure of `--items` store items
 * (default 150, ~380 MB of NAR; size mix in `closure/generate.ts`) substituted
 * the way `guix system reconfigure` substitutes it — the guix-daemon emulator
 * asks `have` and `info` for the whole closure, then runs `--jobs` (default 4)
 * substitution goals at once in dependency order, each through the real
 * helper — with the contenders interleaved round by round (order rotated):
 *
 * - `pipeline`: the floor: per item `curl narinfo; curl nar.zst | zstd -dc |
 *   nix-store --restore`, `xargs -P<jobs>`, no verification at all;
 * - `http`: guix-p2p, `policy = "http-only"`, same HTTP server;
 * - `p2p1`, `p2p2`: guix-p2p, `policy = "p2p-only"`, from 1 or 2 seeders on
 *   loopback that hold every item; the HTTP server serves narinfos, no NARs;
 * - `first-alone`: guix-p2p, `policy = "p2p-first"`, a node with no peers at
 *   all (what a new install pays over `http`);
 * - `first-empty`: `p2p-first`, connected to a peer that has none of the items;
 * - `http-baseline` (with `--baseline DIR`, another checkout, e.g. `main`'s):
 *   `http` with that tree's daemon and helper, for a before/after in one run;
 * - `p2p2n`, `p2p2f`: guix-p2p, `policy = "p2p-first"`, the whole server (narinfos
 *   and NARs) configured, two seeders that also hold the closure's verified
 *   narinfos (they looked it up): narinfos and NARs from the peers, with
 *   `narinfo_peers = "race"` (`n`) or `"fallback"` (`f`) (issue 15).
 *
 * With `--rtt 0,20,100`, the server sits in a network namespace behind a
 * router that adds that round trip (`closure/far.ts`: tc netem, or an NFQUEUE
 * delay where the kernel lacks netem — the output says which), and every
 * contender is run at each RTT; the seeders stay on loopback (the LAN).
 *
 * Every item lives once in a shared store directory (the seeders seed it from
 * there); leechers restore into `<path>.tmp`, a destination guix-daemon uses.
 *
 * Every guix-p2p contender gets a fresh leecher daemon (empty cache) per
 * round, started and connected before the clock starts. Reports seconds,
 * MB/s (NAR bytes), items/s, the ratio to the pipeline and to `http`, the
 * leecher daemon's CPU seconds and peak RSS, and the helpers' CPU seconds.
 *
 * Usage: `./dev bench closure [--items 150] [--seed 1] [--runs 3] [--jobs 4]
 * [--contenders pipeline,http,p2p1,p2p2,first-alone,first-empty,p2p2n,p2p2f] [--rtt 0,20,100]
 * [--dir /tmp] [--keep] [--baseline DIR]
 * [--compression auto|always|never] [--set key=value,…] [--log DIR --log-level debug] [--profile DIR [--profile-who leech,one]]` (`--log`: each leecher daemon's log into DIR;
 * `--profile`: CPU profiles of the leecher daemons into DIR, summarised)
 *
 * @module
 */
import { parseFlags } from "../src/std/cli.ts";
import { helperAgent } from "../tests/support/daemon_proc.ts";
import { startFileServer } from "../tests/support/http_server.ts";
import { p2pWorld } from "../tests/support/p2p_world.ts";
import { type SwarmNode } from "../tests/support/swarm.ts";
import { forceRemove } from "../tests/support/tree_check.ts";
import { substituteClosure } from "./closure/drive.ts";
import { profilingDeno, summarizeProfiles } from "./_cpu_profile.ts";
import { publishClosure } from "./closure/publish.ts";
import { loadAverage, median, procStats, table } from "./measure.ts";
import {
  benchNode,
  startNode,
  waitForPeers,
  waitForProviders,
  withClient,
} from "../tests/support/swarm.ts";
import { SubstituterAgent } from "../tests/support/guix_daemon.ts";
import { startFarServer } from "./closure/far.ts";

const { flags } = parseFlags(Deno.args, {
  string: [
    "items",
    "seed",
    "runs",
    "jobs",
    "contenders",
    "dir",
    "log",
    "log-level",
    "profile",
    "profile-who",
    "compression",
    "rtt",
    "set",
    "baseline",
  ],
  boolean: ["keep"],
});
const n = Number(flags.items ?? "150");
const seed = Number(flags.seed ?? "1");
const runs = Number(flags.runs ?? "3");
const jobs = Number(flags.jobs ?? "4");
const contenders = (flags.contenders ?? "pipeline,http,p2p1,p2p2").split(",");
const base = flags.dir ?? "/tmp";
/** `--set key=value,…`: extra settings of every leecher daemon (values as JSON, else strings). */
const leecherSet: Record<string, unknown> = Object.fromEntries(
  (flags.set ?? "").split(",").filter(Boolean).map((kv) => {
    const at = kv.indexOf("=");
    const value = kv.slice(at + 1);
    let parsed: unknown = value;
    try {
      parsed = JSON.parse(value);
    } catch { /* a string */ }
    return [kv.slice(0, at), parsed];
  }),
);
const rtts = flags.rtt === undefined ? [undefined] : flags.rtt.split(",").map(Number);

const root = await Deno.makeTempDir({ dir: base, prefix: "closure-bench-" });
if (flags.profile) {
  // CPU profiles of the leecher daemons (written when each stops), summarised at the end.
  await Deno.mkdir(flags.profile, { recursive: true });
  const who = (flags["profile-who"] ?? "leech").split(",").map((w) => `/${w}/`);
  Deno.env.set("GUIX_P2P_DENO", await profilingDeno(flags.profile, who));
}
const leechDir = `${root}/leech`;
/** Every item, once: seeders seed from here, leechers restore into `<path>.tmp`. */
const store = `${root}/store`;
await Deno.mkdir(store, { recursive: true });
await using world = await p2pWorld(root, { serveNars: true });
await using narless = await startFileServer({ root: `${root}/cache` });
narless.faults.push({ match: /\/nar\//, action: "status", status: 404 });
await using far = flags.rtt === undefined
  ? undefined
  : await startFarServer(`${root}/cache`, { rttMs: rtts[0]! });
if (far) console.error(`far server ${far.url}: delay by ${far.method}`);
/** The server URLs of the moment (loopback, or the far namespace). */
const urls = () => ({
  whole: far?.url ?? world.server.url,
  narless: far?.narlessUrl ?? narless.url,
});

// --- The closure ---------------------------------------------------------
let t = performance.now();
const { generated, items } = await publishClosure(
  root,
  store,
  world.key.key,
  { n, seed },
  async (item, g) => {
    const cp = await new Deno.Command("cp", { args: ["-al", g.source, item.storePath] }).output();
    if (!cp.success) throw new Error(`cp: ${new TextDecoder().decode(cp.stderr)}`);
  },
);
const narBytes = items.reduce((s, i) => s + i.narSize, 0);
const paths = items.map((i) => i.storePath);
const refs = generated.map((g) => g.refs);
console.error(
  `closure: ${n} items, ${(narBytes / 1e6).toFixed(1)} MB of NAR, made in ${
    ((performance.now() - t) / 1000).toFixed(1)
  } s`,
);

// --- Peers ---------------------------------------------------------------
// `--compression always` makes the seeders compress as they would for a peer on another host.
const compression: Record<string, unknown> = flags.compression
  ? { block_compression: flags.compression }
  : {};
const needP2p = contenders.some((c) => c.startsWith("p2p") || c === "first-empty");
const narinfoPeers = contenders.some((c) => c === "p2p2n" || c === "p2p2f");
const swarms: SwarmNode[] = [];
/** Seeders share the store; with narinfos, they look the closure up first (so they hold them). */
const seederSettings = () => ({
  ...compression,
  store_dir: store,
  acl_path: world.acl,
  substitute_urls: [urls().whole],
});
const seedAll = async (node: SwarmNode, lookUp = false) => {
  if (lookUp) {
    const found = await withClient(node, (c) => c.lookup(paths));
    const n = found.filter((f) => f.kind === "found").length;
    if (n !== paths.length) throw new Error(`${node.name}: ${n} of ${paths.length} narinfos`);
  }
  const r = await node.cli(["seed", ...paths]);
  if (r.code !== 0) throw new Error(`seed on ${node.name}: ${r.stderr}`);
};
let one: SwarmNode | undefined, twoA: SwarmNode | undefined, empty: SwarmNode | undefined;
if (needP2p) {
  t = performance.now();
  if (contenders.includes("p2p1")) {
    one = await benchNode("one", `${root}/one`, seederSettings());
    swarms.push(one);
    await seedAll(one);
  }
  if (contenders.includes("p2p2") || narinfoPeers) {
    twoA = await benchNode("twoA", `${root}/twoA`, seederSettings());
    const twoB = await benchNode("twoB", `${root}/twoB`, seederSettings(), twoA.address);
    swarms.push(twoA, twoB);
    await waitForPeers(twoA, 1);
    await Promise.all([seedAll(twoA, narinfoPeers), seedAll(twoB, narinfoPeers)]);
  }
  if (contenders.includes("first-empty")) {
    empty = await benchNode("empty", `${root}/empty`, {});
    swarms.push(empty);
  }
  console.error(`seeders ready in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

// --- Contenders ----------------------------------------------------------
interface Sample {
  s: number;
  queryS: number;
  leecherCpu: number;
  leecherHwmMB: number;
  helperCpu: number;
  seederCpu: number;
}
const samples: Record<string, Sample[]> = Object.fromEntries(contenders.map((c) => [c, []]));

async function cleanStore(): Promise<void> {
  await forceRemove(leechDir);
  await Deno.mkdir(leechDir, { recursive: true });
  for await (const e of Deno.readDir(store)) {
    if (e.name.includes(".tmp")) await forceRemove(`${store}/${e.name}`);
  }
}
const dest = (path: string) => `${path}.tmp`;

async function pipeline(): Promise<Sample> {
  await cleanStore();
  const list = `${root}/pipeline.list`;
  await Deno.writeTextFile(list, items.map((i) => `${i.hashPart} ${i.baseName}`).join("\n") + "\n");
  const url = urls().whole;
  const script = `set -o pipefail; h=$1; b=$2; ` +
    `curl -sf ${url}/$h.narinfo >/dev/null && ` +
    `curl -sf ${url}/nar/zstd/$b | zstd -dc | nix-store --restore ${store}/$b.tmp`;
  const t0 = performance.now();
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `xargs -P${jobs} -L1 bash -c '${script.replaceAll("'", "'\\''")}' sh < ${list}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const s = (performance.now() - t0) / 1000;
  if (!out.success) throw new Error(`pipeline: ${new TextDecoder().decode(out.stderr)}`);
  return { s, queryS: 0, leecherCpu: 0, leecherHwmMB: 0, helperCpu: 0, seederCpu: 0 };
}

/** When the current run's `have` request was sent (Date.now()). */
let runStartedAt = 0;

async function guixP2p(
  policy: string,
  bootstrap: SwarmNode | undefined,
  noPeers = false,
  narinfoPeers = "off",
  /** Another checkout whose daemon and helper run instead of this tree's (`--baseline`). */
  tree?: string,
) {
  await cleanStore();
  const p2p = policy !== "http-only";
  const bin = tree && `${tree}/bin`;
  const leecher = await startNode(
    "leecher",
    leechDir,
    {
      log_level: "info",
      store_dir: store,
      acl_path: world.acl,
      substitute_urls: [policy === "p2p-only" ? urls().narless : urls().whole],
      policy,
      narinfo_peers: narinfoPeers,
      ...(noPeers ? { listen: [] } : {}),
      ...(flags["log-level"] ? { log_level: flags["log-level"] } : {}),
      ...leecherSet,
    },
    bootstrap?.address,
    bin ? { wrap: (argv) => [`${bin}/guix-p2p`, ...argv.slice(1)] } : {},
  );
  try {
    if (p2p && bootstrap) await waitForPeers(leecher, bootstrap === twoA ? 2 : 1);
    if (policy === "p2p-only") await waitForProviders(leecher, paths[0]!);
    const seeders = swarms.filter((s) =>
      s === bootstrap || (bootstrap === twoA && s.name === "twoB")
    );
    const seeder0 = await Promise.all(seeders.map((s) => procStats(s.daemon.child.pid)));
    const before = await procStats(leecher.daemon.child.pid);
    let helperCpu = 0;
    runStartedAt = Date.now();
    const run = await substituteClosure(
      (mode) =>
        bin
          ? SubstituterAgent[mode]({
            program: [`${bin}/guix-p2p-substitute`],
            env: { GUIX_P2P_CONFIG: leecher.daemon.configPath, NIX_STORE_DIR: store },
            storeDir: store,
          })
          : helperAgent(mode, leecher.daemon, store),
      paths,
      refs,
      {
        jobs,
        dest,
        onAgentExit: async (pid) => {
          helperCpu += (await procStats(pid)).cpu;
        },
      },
    );
    const after = await procStats(leecher.daemon.child.pid);
    if (flags.log) {
      // When each item was substituted (ms from the `have` request), for reading beside the log.
      await Deno.mkdir(flags.log, { recursive: true });
      const lines = run.itemStartMs.map((start, i) =>
        `${i}\t${items[i]!.narSize}\t${start.toFixed(0)}\t${(start + run.itemMs[i]!).toFixed(0)}`
      );
      await Deno.writeTextFile(
        `${flags.log}/${policy}${tree ? "-baseline" : ""}-${Date.now()}.timeline.tsv`,
        `item\tnarSize\tstartMs\tendMs\n${lines.join("\n")}\n`,
      );
    }
    const seeder1 = await Promise.all(seeders.map((s) => procStats(s.daemon.child.pid)));
    return {
      s: run.totalMs / 1000,
      queryS: run.queryMs / 1000,
      leecherCpu: after.cpu - before.cpu,
      leecherHwmMB: after.hwmKiB / 1024,
      helperCpu,
      seederCpu: seeder1.reduce((sum, x, i) => sum + x.cpu - seeder0[i]!.cpu, 0),
    };
  } finally {
    await leecher.daemon.stop();
    if (flags.log) {
      await Deno.mkdir(flags.log, { recursive: true });
      await Deno.writeTextFile(
        `${flags.log}/${policy}${tree ? "-baseline" : ""}-${Date.now()}.log`,
        // Each line with the ms since the `have` request (negative: before the run).
        leecher.daemon.log.map((line, i) =>
          `${String(leecher.daemon.logAt[i]! - runStartedAt).padStart(6)} ${line}`
        ).join("\n"),
      );
    }
  }
}

const run: Record<string, () => Promise<Sample>> = {
  pipeline,
  http: () => guixP2p("http-only", undefined),
  p2p1: () => guixP2p("p2p-only", one),
  p2p2: () => guixP2p("p2p-only", twoA),
  "first-alone": () => guixP2p("p2p-first", undefined, true),
  "first-empty": () => guixP2p("p2p-first", empty),
  p2p2n: () => guixP2p("p2p-first", twoA, false, "race"),
  p2p2f: () => guixP2p("p2p-first", twoA, false, "fallback"),
  "http-baseline": () => guixP2p("http-only", undefined, false, "off", flags.baseline),
};
if (contenders.includes("http-baseline") && !flags.baseline) {
  throw new Error("the http-baseline contender needs --baseline DIR");
}

const loads: number[] = [];
/** Samples by contender and RTT. */
const key = (c: string, rtt: number | undefined) => (rtt === undefined ? c : `${c}@${rtt}`);
for (const rtt of rtts) for (const c of contenders) samples[key(c, rtt)] ??= [];
try {
  for (const rtt of rtts) {
    if (rtt !== undefined) await far!.setRtt(rtt);
    for (let r = 0; r < runs; r++) {
      const order = contenders.map((_, k) => contenders[(k + r) % contenders.length]!);
      for (const c of order) {
        loads.push(await loadAverage());
        let sample: Sample;
        try {
          sample = await run[c]!();
        } catch (e) {
          // One failed run (a start-up wait timing out on a loaded machine) is reported, not fatal.
          console.error(`  round ${r + 1} ${c}: FAILED: ${(e as Error).message}`);
          continue;
        }
        samples[key(c, rtt)]!.push(sample);
        console.error(
          `  ${rtt === undefined ? "" : `rtt ${rtt} ms `}round ${r + 1} ${c}: ${
            sample.s.toFixed(2)
          } s (query ${sample.queryS.toFixed(2)} s, ` +
            `leecher ${sample.leecherCpu.toFixed(1)} CPU-s, ${
              sample.leecherHwmMB.toFixed(0)
            } MB; ` +
            `helpers ${sample.helperCpu.toFixed(1)} CPU-s; seeders ${
              sample.seederCpu.toFixed(1)
            } CPU-s)`,
        );
      }
    }
  }
} finally {
  for (const s of swarms) await s.daemon.stop().catch(() => {});
}

const med = (c: string, k: keyof Sample) => median(samples[c]!.map((x) => x[k]));
const ref = (c: string) => (samples[c]?.length ? med(c, "s") : NaN);
console.log(
  `\nclosure: ${n} items, ${(narBytes / 1e6).toFixed(1)} MB NAR, seed ${seed}, ${jobs} jobs, ` +
    `${runs} rounds; load average ${Math.min(...loads).toFixed(1)}–${
      Math.max(...loads).toFixed(1)
    }${far ? `; server RTT added by ${far.method}` : ""}\n`,
);
table(
  [
    "contender",
    ...(far ? ["RTT ms"] : []),
    "s (median)",
    "best s",
    "MB/s",
    "items/s",
    "vs pipeline",
    "vs http",
    "query s",
    "leecher CPU-s",
    "leecher MB",
    "helpers CPU-s",
    "seeders CPU-s",
  ],
  rtts.flatMap((rtt) =>
    contenders.map((c) => {
      const k = key(c, rtt);
      const s = med(k, "s");
      return [
        c,
        ...(far ? [String(rtt)] : []),
        s.toFixed(2),
        Math.min(...samples[k]!.map((x) => x.s)).toFixed(2),
        (narBytes / 1e6 / s).toFixed(0),
        (n / s).toFixed(1),
        (ref(key("pipeline", rtt)) / s).toFixed(2),
        (ref(key("http", rtt)) / s).toFixed(2),
        med(k, "queryS").toFixed(2),
        med(k, "leecherCpu").toFixed(1),
        med(k, "leecherHwmMB").toFixed(0),
        med(k, "helperCpu").toFixed(1),
        med(k, "seederCpu").toFixed(1),
      ];
    })
  ),
);
if (flags.profile) {
  for (const line of await summarizeProfiles(flags.profile, 25)) console.log(line);
}
if (!flags.keep) await forceRemove(root);
