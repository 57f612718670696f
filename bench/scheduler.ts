/**
 * Block scheduler benchmark.
 *
 * 1. Decision cost: a 2 GiB NAR (8192 blocks of 256 KiB) scheduled over 8
 *    peers in a tight loop (every request answered at once), with full and
 *    with partial availability; the cost per block (one `next()` decision and
 *    one `received()`) against SHA-256 of one 256 KiB block (node:crypto,
 *    same run), which the download loop pays for every block anyway. Also the
 *    fair rate limiter's cost per grant with 64 keys waiting.
 * 2. Policy: simulated completion time, duplicated bytes and mean streamable
 *    prefix on the simulation scenarios, for the default policy and with one
 *    feature off at a time, plus a reference-like policy (fixed window of 4,
 *    in order, no endgame, no stall guard) as in the Rust guix-p2p.
 *
 * Usage: `./dev bench scheduler`
 *
 * @module
 */
import { createHash } from "node:crypto";
import { BlockScheduler, type BlockSchedulerOptions } from "../src/p2p/scheduler/mod.ts";
import { type SimResult, simulateDownload } from "../tests/support/scheduler_sim/simulate.ts";
import {
  meanPrefix,
  mixedSwarm,
  randomSwarm,
  type Scenario,
} from "../tests/support/scheduler_sim/scenarios.ts";
import { FairRateLimiter, ManualClock } from "../src/p2p/rate/mod.ts";
import { Bitfield } from "../src/p2p/wire/bitfield.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const BLOCK = 256 * KiB;

/** Best of `reps` runs of `fn` (ms), after one warm-up. */
function best(reps: number, fn: () => void): number {
  fn();
  let min = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

// ---------------------------------------------------------------- 1. cost

/** Schedules a whole NAR over `peers`, every request answered at once; returns next() calls. */
function scheduleAll(blockCount: number, haves: (Bitfield | "all")[]): number {
  let t = 0;
  const s = new BlockScheduler({ blockCount, now: () => t, requestTimeoutMs: 20_000 });
  haves.forEach((h, k) => s.addPeer(`peer-${k}`, h));
  const ids = s.peers;
  let calls = 0;
  const pending: [string, number][] = [];
  while (!s.done) {
    for (const id of ids) {
      calls++;
      for (const i of s.next(id)) pending.push([id, i]);
    }
    t += 1;
    for (const [id, i] of pending) s.received(id, i, BLOCK);
    pending.length = 0;
  }
  return calls;
}

const N = (2 * GiB) / BLOCK;
const full = Array.from({ length: 8 }, () => "all" as const);
const partial = Array.from({ length: 8 }, (_, k) => {
  const b = new Bitfield(N);
  for (let i = 0; i < N; i++) if ((i * 7 + k * 13) % 8 < 4 + (k % 4)) b.set(i);
  return b;
});
const fullMs = best(5, () => scheduleAll(N, full));
const partialMs = best(5, () => scheduleAll(N, partial));
const block = crypto.getRandomValues(new Uint8Array(64 * KiB));
const blockData = new Uint8Array(BLOCK);
for (let o = 0; o < BLOCK; o += block.length) blockData.set(block, o);
const hashMs = best(5, () => {
  for (let k = 0; k < 200; k++) createHash("sha256").update(blockData).digest();
}) / 200;

const limiterUs = (() => {
  const clock = new ManualClock();
  const lim = new FairRateLimiter({ bytesPerSecond: 100e6, burst: 64 * KiB, ...clock });
  const keys = Array.from({ length: 64 }, (_, k) => `k${k}`);
  const grants = 20_000;
  let granted = 0;
  const grant = (key: string) => lim.acquire(key, 16 * KiB).then(() => granted++, () => {});
  const t0 = performance.now();
  for (const key of keys) grant(key);
  // Each fired timer grants one 16 KiB request; re-queue synchronously.
  for (let g = 0; g < grants; g++) {
    clock.fireNext();
    grant(keys[g % 64]!);
  }
  const us = ((performance.now() - t0) * 1000) / grants;
  lim.close();
  if (lim.stats().totalBytes < grants * 16 * KiB) {
    throw new Error("the limiter bench granted too little");
  }
  return us;
})();

const perBlockUs = (ms: number) => (ms * 1000) / N;
const fmtUs = (us: number) => `${us.toFixed(2)} µs`;
console.log("## Decision cost (2 GiB NAR, 8192 blocks, 8 peers)\n");
console.log("| operation | time per block | rate | cost vs SHA-256 of the block |");
console.log("| --- | --- | --- | --- |");
console.log(
  `| SHA-256 of a 256 KiB block, node:crypto (baseline) | ${fmtUs(hashMs * 1000)} | ${
    Math.round(1000 / hashMs).toLocaleString("en-US")
  }/s | 1.00 |`,
);
for (
  const [name, ms] of [["full seeders", fullMs], [
    "partial availability (rarest first)",
    partialMs,
  ]] as const
) {
  console.log(
    `| schedule + receive, ${name} | ${fmtUs(perBlockUs(ms))} | ${
      Math.round(N / ms * 1000).toLocaleString("en-US")
    } blocks/s | ${(perBlockUs(ms) / (hashMs * 1000)).toFixed(3)} |`,
  );
}
console.log(
  `| fair limiter grant, 64 keys waiting | ${fmtUs(limiterUs)} | ${
    Math.round(1e6 / limiterUs).toLocaleString("en-US")
  } grants/s | ${(limiterUs / (hashMs * 1000)).toFixed(3)} |`,
);
console.log(
  `\nA 256 KiB block at 1 Gbit/s takes ${((BLOCK * 8) / 1e9 * 1e6).toFixed(0)} µs on the wire.`,
);

// ---------------------------------------------------------------- 2. policy

type Config = Partial<Omit<BlockSchedulerOptions, "blockCount" | "now">>;
const configs: [string, Config][] = [
  ["default", {}],
  ["no endgame (nor stall rescue)", { endgameDuplicates: 0 }],
  ["no stall guard", { stallMinMs: Infinity }],
  ["strict rarest-first (no rarity cap)", { rarityCap: Infinity }],
  ["in order (no rarest-first)", { rarestFirst: false }],
  ["no queue-delay cap", { maxQueueDelayMs: Infinity }],
  ["reference-like: window 4, in order, no endgame/guard/cap", {
    initialWindow: 4,
    maxWindow: 4,
    endgameDuplicates: 0,
    stallMinMs: Infinity,
    rarestFirst: false,
    maxQueueDelayMs: Infinity,
  }],
];

const seeders: Scenario = {
  narSize: GiB,
  blockSize: BLOCK,
  peers: [
    { id: "a", bytesPerSecond: 40e6, rttMs: 20, jitter: 0.3 },
    { id: "b", bytesPerSecond: 20e6, rttMs: 60, jitter: 0.3 },
    { id: "c", bytesPerSecond: 10e6, rttMs: 100, jitter: 0.3 },
    { id: "d", bytesPerSecond: 5e6, rttMs: 150, jitter: 0.3 },
  ],
};
const leecher: Scenario = {
  narSize: GiB,
  blockSize: BLOCK,
  peers: [
    ...Array.from({ length: 6 }, (_, k) => ({
      id: `seed-${k}`,
      bytesPerSecond: 10e6,
      rttMs: 40 + 10 * k,
      jitter: 0.2,
    })),
    { id: "leecher", bytesPerSecond: 10e6, rttMs: 30, jitter: 0.2, have: { get: (i) => i < 1229 } },
  ],
};
const dialup: Scenario = {
  narSize: 256 * MiB,
  blockSize: BLOCK,
  peers: [
    { id: "fast-1", bytesPerSecond: 50e6, rttMs: 10 },
    { id: "fast-2", bytesPerSecond: 50e6, rttMs: 10 },
    { id: "dial-up", bytesPerSecond: 0.25e6, rttMs: 600 },
  ],
};
const scenarios: [string, { scenario: Scenario; seed: number }[]][] = [
  [
    "mixed swarm, 1 GiB, 8 peers (leave, stall, corrupt, partial)",
    [1, 2, 3].map((seed) => ({
      scenario: mixedSwarm(GiB),
      seed,
    })),
  ],
  ["4 full seeders 40/20/10/5 MB/s, 1 GiB", [{ scenario: seeders, seed: 4 }]],
  ["6 seeders + 1 leecher holding the first 30 %, 1 GiB", [{ scenario: leecher, seed: 5 }]],
  ["2 fast peers + 1 dial-up (0.25 MB/s), 256 MiB", [{ scenario: dialup, seed: 9 }]],
  [
    "30 random swarms, 16-256 MiB",
    Array.from({ length: 30 }, (_, k) => ({
      scenario: randomSwarm(100 + k),
      seed: 100 + k,
    })),
  ],
];

console.log("\n## Simulated downloads\n");
console.log(
  "Time is the mean simulated completion time relative to the default policy on the same runs (> 1: slower);",
);
console.log(
  "duplicated = bytes received twice / NAR size; prefix = mean streamable fraction (0.5 = linear).\n",
);
console.log("| scenario | policy | time vs default | duplicated | prefix | completed |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const [name, runs] of scenarios) {
  let baseTime = 0;
  for (const [label, config] of configs) {
    const results: SimResult[] = runs.map(({ scenario, seed }) =>
      simulateDownload({
        ...scenario,
        seed,
        scheduler: { requestTimeoutMs: 10_000, ...config },
      })
    );
    const time = results.reduce((a, r) => a + r.timeMs, 0) / results.length;
    if (label === "default") baseTime = time;
    const dup = results.reduce((a, r) => a + r.duplicateBytes, 0) /
      results.reduce((a, r) => a + r.narSize, 0);
    const prefix = results.reduce((a, r) => a + meanPrefix(r), 0) / results.length;
    const done = results.filter((r) => r.completed).length;
    console.log(
      `| ${label === "default" ? name : ""} | ${label} | ${(time / baseTime).toFixed(3)}${
        label === "default" ? ` (${(time / 1000).toFixed(2)} s)` : ""
      } | ${(dup * 100).toFixed(2)} % | ${prefix.toFixed(2)} | ${done}/${results.length} |`,
    );
  }
}
