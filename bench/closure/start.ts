/**
 * The start of a closure substitution over HTTP, in detail (issue 9's HTTP
 * target: what guix-p2p pays before and at the start of the substitutions that
 * the shell pipeline does not): a fresh `policy = "http-only"` leecher daemon
 * per round, then as guix-daemon does it a `--query` helper asks `have` and
 * `info` for the whole closure (`--items`, default 150, the closure
 * benchmark's items and seed), then `--jobs` (default 4) `--substitute`
 * helpers are spawned at once for the first items that have no references,
 * and the same helpers substitute as many again (warm). Prints per round and
 * as medians: the `have` and `info` round trips, the daemon's own `lookup`
 * times (from its debug log), the first (cold) and second (warm) items.
 *
 * `--baseline DIR`: another checkout (e.g. `git worktree add DIR main`, or
 * `git archive main | tar -x -C DIR` and `./dev setup` there) whose daemon and
 * helper run in alternate rounds with this tree's, for a before/after on a
 * noisy machine; the table then has both and their ratio.
 *
 * `--profile DIR` writes CPU profiles of the helpers (`--cpu-prof`; they exit
 * at EOF on stdin) and of the leecher daemons into DIR and summarises them.
 *
 * Usage: `./dev bench closure/start [--items 150] [--seed 1] [--runs 5] [--jobs 4] [--baseline DIR] [--profile DIR]`
 *
 * @module
 */
import { parseFlags } from "../../src/std/cli.ts";
import { helperAgent } from "../../tests/support/daemon_proc.ts";
import { SubstituterAgent } from "../../tests/support/guix_daemon.ts";
import { p2pWorld } from "../../tests/support/p2p_world.ts";
import { startNode } from "../../tests/support/swarm.ts";
import { forceRemove } from "../../tests/support/tree_check.ts";
import { denoWrapper } from "../_deno_wrapper.ts";
import { summarizeProfiles } from "../_cpu_profile.ts";
import { loadAverage, median, procStats, table } from "../measure.ts";
import { publishClosure } from "./publish.ts";

const { flags } = parseFlags(Deno.args, {
  string: ["items", "seed", "runs", "jobs", "profile", "dir", "baseline"],
});
const n = Number(flags.items ?? "150");
const seed = Number(flags.seed ?? "1");
const runs = Number(flags.runs ?? "5");
const jobs = Number(flags.jobs ?? "4");

const root = await Deno.makeTempDir({ dir: flags.dir ?? "/tmp", prefix: "closure-start-" });
if (flags.profile) {
  await Deno.mkdir(flags.profile, { recursive: true });
  Deno.env.set(
    "GUIX_P2P_DENO",
    await denoWrapper(
      `${flags.profile}/deno-helper-prof.sh`,
      ["*--query", "*--substitute", "*--daemon*/leech-*"],
      `--cpu-prof --cpu-prof-dir=${flags.profile}`,
    ),
  );
}
const store = `${root}/store`;
await Deno.mkdir(store, { recursive: true });
await using world = await p2pWorld(root, { serveNars: true });
const { generated, items } = await publishClosure(root, store, world.key.key, { n, seed });
const paths = items.map((i) => i.storePath);
/** The first items without references (what guix-daemon can start with), then the next ones. */
const leaves = generated.flatMap((g, i) => (g.refs.length === 0 ? [i] : [])).slice(0, 2 * jobs);
if (leaves.length < 2 * jobs) throw new Error(`only ${leaves.length} items without references`);

interface Sample {
  haveMs: number;
  infoMs: number;
  lookupMs: number[];
  coldMs: number[];
  warmMs: number[];
  /** CPU seconds of the query helper, of the substitute helpers, of the daemon (whole round). */
  queryCpu: number;
  subsCpu: number;
  daemonCpu: number;
}
/** The trees compared: this checkout, and with `--baseline DIR` that one too. */
const trees = flags.baseline ? ["this", "baseline"] : ["this"];
const samples: Record<string, Sample[]> = Object.fromEntries(trees.map((t) => [t, []]));
const loads: number[] = [];

const time = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
};

/** One round with the daemon and helpers of `tree`. */
async function round(tree: string, r: number): Promise<void> {
  const dir = `${root}/leech-${tree}-${r}`;
  const bin = tree === "this" ? undefined : `${flags.baseline}/bin`;
  const leecher = await startNode(
    "leecher",
    dir,
    {
      store_dir: store,
      acl_path: world.acl,
      substitute_urls: [world.server.url],
      policy: "http-only",
      log_level: "debug",
    },
    undefined,
    bin ? { wrap: (argv) => [`${bin}/guix-p2p`, ...argv.slice(1)] } : {},
  );
  const spawn = (mode: "query" | "substitute") =>
    bin
      ? SubstituterAgent[mode]({
        program: [`${bin}/guix-p2p-substitute`],
        env: { GUIX_P2P_CONFIG: leecher.daemon.configPath, NIX_STORE_DIR: store },
        storeDir: store,
      })
      : helperAgent(mode, leecher.daemon, store);
  const agents: SubstituterAgent[] = [];
  const cpu = new Map<number, number>();
  try {
    const daemon0 = procStats(leecher.daemon.child.pid).cpu;
    const query = spawn("query");
    agents.push(query);
    const [have, haveMs] = await time(() => query.have(paths));
    const [info, infoMs] = await time(() => query.info(paths));
    if (have.length !== n || info.length !== n) {
      throw new Error(`have ${have.length}, info ${info.length} of ${n}`);
    }
    const subs = leaves.slice(0, jobs).map(() => spawn("substitute"));
    agents.push(...subs);
    const substitute = (a: SubstituterAgent, i: number) =>
      time(async () => {
        const out = await a.substitute(paths[i]!, `${paths[i]}.tmp`);
        if (!out.status.startsWith("success ")) {
          throw new Error(`${paths[i]}: ${out.status}\n${a.log.join("\n")}`);
        }
      }).then(([, ms]) => ms);
    const coldMs = await Promise.all(subs.map((a, k) => substitute(a, leaves[k]!)));
    const warmMs = await Promise.all(subs.map((a, k) => substitute(a, leaves[jobs + k]!)));
    for (const a of agents) cpu.set(a.child.pid, procStats(a.child.pid).cpu);
    const daemonCpu = procStats(leecher.daemon.child.pid).cpu - daemon0;
    const lookupMs = leecher.daemon.log.flatMap((l) => {
      const m = /lookup: \d+\/(\d+) found in (\d+) ms/.exec(l);
      return m && Number(m[1]) === n ? [Number(m[2])] : [];
    });
    const queryCpu = cpu.get(query.child.pid)!;
    const subsCpu = subs.reduce((sum, a) => sum + cpu.get(a.child.pid)!, 0);
    samples[tree]!.push({ haveMs, infoMs, lookupMs, coldMs, warmMs, queryCpu, subsCpu, daemonCpu });
    console.error(
      `  round ${r + 1} ${tree}: have ${haveMs.toFixed(0)} ms, info ${infoMs.toFixed(0)} ms ` +
        `(daemon lookups ${lookupMs.join(", ")} ms); first items ${
          coldMs.map((x) => x.toFixed(0)).join(", ")
        } ms, next ${warmMs.map((x) => x.toFixed(0)).join(", ")} ms; CPU-s query ${
          queryCpu.toFixed(2)
        }, substitute ${subsCpu.toFixed(2)}, daemon ${daemonCpu.toFixed(2)}`,
    );
  } finally {
    for (const a of agents) await a.close();
    await leecher.daemon.stop();
    if (flags.profile) {
      // Name each profile by its tree and role: daemon, query, substitute.
      const roles = new Map<number, string>([[leecher.daemon.child.pid, "daemon"]]);
      for (const a of agents) roles.set(a.child.pid, a.mode.slice(2));
      for await (const e of Deno.readDir(flags.profile)) {
        const m = /^CPU\.\d+\.(\d+)\.cpuprofile$/.exec(e.name);
        const role = m && roles.get(Number(m[1]));
        if (role) {
          await Deno.rename(
            `${flags.profile}/${e.name}`,
            `${flags.profile}/r${r + 1}-${tree}-${role}-${m[1]}.cpuprofile`,
          );
        }
      }
    }
    for (const i of leaves) await forceRemove(`${paths[i]}.tmp`);
    await forceRemove(dir);
  }
}

for (let r = 0; r < runs; r++) {
  // Interleaved, order alternating round by round.
  for (const tree of r % 2 === 0 ? trees : [...trees].reverse()) {
    loads.push(loadAverage());
    await round(tree, r);
  }
}

console.log(
  `\nclosure start: ${n} items, seed ${seed}, ${jobs} jobs, ${runs} rounds; load average ${
    Math.min(...loads).toFixed(1)
  }–${Math.max(...loads).toFixed(1)}${flags.baseline ? `; baseline ${flags.baseline}` : ""}\n`,
);
const steps: [string, (s: Sample) => number][] = [
  ["have (helper start + lookup + checks), ms", (s) => s.haveMs],
  ["daemon lookup for have, ms", (s) => s.lookupMs[0] ?? NaN],
  ["info, ms", (s) => s.infoMs],
  ["query phase (have + info), ms", (s) => s.haveMs + s.infoMs],
  ["first items (fresh helpers), slowest, ms", (s) => Math.max(...s.coldMs)],
  ["first items, median, ms", (s) => median(s.coldMs)],
  ["next items (same helpers), slowest, ms", (s) => Math.max(...s.warmMs)],
  ["next items, median, ms", (s) => median(s.warmMs)],
  ["query helper CPU, ms", (s) => 1000 * s.queryCpu],
  ["substitute helpers CPU (all), ms", (s) => 1000 * s.subsCpu],
  ["daemon CPU (round), ms", (s) => 1000 * s.daemonCpu],
];
table(
  [
    "step",
    ...trees.flatMap((t) => [`${t} median`, `${t} best`]),
    ...(flags.baseline ? ["this / baseline (median)"] : []),
  ],
  steps.map(([name, f]) => {
    const med = (t: string) => median(samples[t]!.map(f));
    const best = (t: string) => Math.min(...samples[t]!.map(f));
    return [
      name,
      ...trees.flatMap((t) => [med(t).toFixed(0), best(t).toFixed(0)]),
      ...(flags.baseline ? [(med("this") / med("baseline")).toFixed(2)] : []),
    ];
  }),
);
if (flags.profile) {
  for (const line of await summarizeProfiles(flags.profile, 25)) console.log(line);
}
await forceRemove(root);
