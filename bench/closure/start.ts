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
 * `--profile DIR` writes CPU profiles of the helpers (`--cpu-prof`; they exit
 * at EOF on stdin) and of the leecher daemons into DIR and summarises them.
 *
 * Usage: `./dev bench closure/start [--items 150] [--seed 1] [--runs 5] [--jobs 4] [--profile DIR]`
 *
 * @module
 */
import { parseFlags } from "../../src/std/cli.ts";
import { type FixtureItem, makeItem, publishItem } from "../../tests/support/guix_cache.ts";
import { helperAgent } from "../../tests/support/daemon_proc.ts";
import type { SubstituterAgent } from "../../tests/support/guix_daemon.ts";
import { p2pWorld } from "../../tests/support/p2p_world.ts";
import { benchNode } from "../../tests/support/swarm.ts";
import { forceRemove } from "../../tests/support/tree_check.ts";
import { denoWrapper } from "../_deno_wrapper.ts";
import { summarizeProfiles } from "../_cpu_profile.ts";
import { loadAverage, median, table } from "../measure.ts";
import { generateClosure } from "./generate.ts";

const { flags } = parseFlags(Deno.args, {
  string: ["items", "seed", "runs", "jobs", "profile", "dir"],
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
const generated = await generateClosure(`${root}/src`, { n, seed });
const items: FixtureItem[] = [];
for (const g of generated) {
  const item = await makeItem(g.source, {
    storeDir: store,
    name: g.name,
    references: g.refs.map((j) => items[j]!.baseName),
  });
  await publishItem(`${root}/cache`, item, { key: world.key.key, compressions: ["zstd"] });
  items.push(item);
}
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
}
const samples: Sample[] = [];
const loads: number[] = [];

const time = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
};

for (let r = 0; r < runs; r++) {
  loads.push(loadAverage());
  const dir = `${root}/leech-${r}`;
  const leecher = await benchNode("leecher", dir, {
    store_dir: store,
    acl_path: world.acl,
    substitute_urls: [world.server.url],
    policy: "http-only",
    log_level: "debug",
  });
  const agents: SubstituterAgent[] = [];
  try {
    const query = helperAgent("query", leecher.daemon, store);
    agents.push(query);
    const [have, haveMs] = await time(() => query.have(paths));
    const [info, infoMs] = await time(() => query.info(paths));
    if (have.length !== n || info.length !== n) {
      throw new Error(`have ${have.length}, info ${info.length} of ${n}`);
    }
    const subs = leaves.slice(0, jobs).map(() => helperAgent("substitute", leecher.daemon, store));
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
    const lookupMs = leecher.daemon.log.flatMap((l) => {
      const m = /lookup: \d+\/(\d+) found in (\d+) ms/.exec(l);
      return m && Number(m[1]) === n ? [Number(m[2])] : [];
    });
    samples.push({ haveMs, infoMs, lookupMs, coldMs, warmMs });
    console.error(
      `  round ${r + 1}: have ${haveMs.toFixed(0)} ms, info ${infoMs.toFixed(0)} ms ` +
        `(daemon lookups ${lookupMs.join(", ")} ms); first items ${
          coldMs.map((x) => x.toFixed(0)).join(", ")
        } ms, next ${warmMs.map((x) => x.toFixed(0)).join(", ")} ms`,
    );
  } finally {
    for (const a of agents) await a.close();
    await leecher.daemon.stop();
    if (flags.profile) {
      // Name each profile by its role: daemon, query, substitute.
      const roles = new Map<number, string>([[leecher.daemon.child.pid, "daemon"]]);
      for (const a of agents) roles.set(a.child.pid, a.mode.slice(2));
      for await (const e of Deno.readDir(flags.profile)) {
        const m = /^CPU\.\d+\.(\d+)\.cpuprofile$/.exec(e.name);
        const role = m && roles.get(Number(m[1]));
        if (role) {
          await Deno.rename(
            `${flags.profile}/${e.name}`,
            `${flags.profile}/r${r + 1}-${role}-${m[1]}.cpuprofile`,
          );
        }
      }
    }
    for (const i of leaves) await forceRemove(`${paths[i]}.tmp`);
    await forceRemove(dir);
  }
}

const med = (f: (s: Sample) => number) => median(samples.map(f)).toFixed(0);
console.log(
  `\nclosure start: ${n} items, seed ${seed}, ${jobs} jobs, ${runs} rounds; load average ${
    Math.min(...loads).toFixed(1)
  }–${Math.max(...loads).toFixed(1)}\n`,
);
table(["step", "median ms", "best ms"], [
  ["have (helper start + lookup + checks)", med((s) => s.haveMs), best((s) => s.haveMs)],
  ["daemon lookup for have", med((s) => s.lookupMs[0] ?? NaN), best((s) => s.lookupMs[0] ?? NaN)],
  ["info", med((s) => s.infoMs), best((s) => s.infoMs)],
  ["daemon lookup for info", med((s) => s.lookupMs[1] ?? NaN), best((s) => s.lookupMs[1] ?? NaN)],
  ["query phase (have + info)", med((s) => s.haveMs + s.infoMs), best((s) => s.haveMs + s.infoMs)],
  [
    "first items (fresh helpers), slowest",
    med((s) => Math.max(...s.coldMs)),
    best((s) => Math.max(...s.coldMs)),
  ],
  ["first items, median", med((s) => median(s.coldMs)), best((s) => median(s.coldMs))],
  [
    "next items (same helpers), slowest",
    med((s) => Math.max(...s.warmMs)),
    best((s) => Math.max(...s.warmMs)),
  ],
  ["next items, median", med((s) => median(s.warmMs)), best((s) => median(s.warmMs))],
]);
function best(f: (s: Sample) => number): string {
  return Math.min(...samples.map(f)).toFixed(0);
}
if (flags.profile) {
  for (const line of await summarizeProfiles(flags.profile, 25)) console.log(line);
}
await forceRemove(root);
