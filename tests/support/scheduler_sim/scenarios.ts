/**
 * Simulation scenarios shared by the scheduler's simulation tests and its
 * benchmark (`bench/scheduler.ts`): a mixed swarm with one peer of every
 * kind, and seeded random swarms whose data always stays available.
 *
 * @example
 * ```ts
 * import { mixedSwarm } from "./scenarios.ts";
 * import { simulateDownload } from "./simulate.ts";
 * const r = simulateDownload({ ...mixedSwarm(2 ** 30), seed: 1, scheduler: { requestTimeoutMs: 10_000 } });
 * r.completed; // true
 * ```
 * @module
 */
import { mulberry32 } from "../random.ts";
import type { SimPeer } from "./simulate.ts";

/** A scenario: the NAR and its peers (add `seed` and options to simulate). */
export interface Scenario {
  narSize: number;
  blockSize: number;
  peers: SimPeer[];
}

const BLOCK = 256 * 1024;

/**
 * Eight peers, 256 KiB blocks: `fast` 40 MB/s, `medium` 20, `modest` 10,
 * `slow` 1 MB/s with 300 ms RTT; `leaves` (10 MB/s) disconnects at 5 s,
 * `stalls` (8 MB/s) stops answering at 3 s, `corrupt` (8 MB/s) sends 30 %
 * bad blocks, `partial` (10 MB/s) has the first 60 % and a stale manifest
 * for every 97th block. 20 % RTT jitter everywhere.
 *
 * @example
 * ```ts
 * import { mixedSwarm } from "./scenarios.ts";
 * mixedSwarm(2 ** 30).peers.map((p) => p.id).length; // 8
 * ```
 */
export function mixedSwarm(narSize: number): Scenario {
  const blockCount = Math.ceil(narSize / BLOCK);
  return {
    narSize,
    blockSize: BLOCK,
    peers: [
      { id: "fast", bytesPerSecond: 40e6, rttMs: 20, jitter: 0.2 },
      { id: "medium", bytesPerSecond: 20e6, rttMs: 40, jitter: 0.2 },
      { id: "modest", bytesPerSecond: 10e6, rttMs: 80, jitter: 0.2 },
      { id: "leaves", bytesPerSecond: 10e6, rttMs: 60, jitter: 0.2, leaveAtMs: 5000 },
      { id: "slow", bytesPerSecond: 1e6, rttMs: 300, jitter: 0.2 },
      {
        id: "partial",
        bytesPerSecond: 10e6,
        rttMs: 50,
        jitter: 0.2,
        have: { get: (i) => i < blockCount * 0.6 },
        lacks: (i) => i % 97 === 5,
      },
      { id: "stalls", bytesPerSecond: 8e6, rttMs: 60, jitter: 0.2, stallAtMs: 3000 },
      { id: "corrupt", bytesPerSecond: 8e6, rttMs: 30, jitter: 0.2, corruptRate: 0.3 },
    ],
  };
}

/**
 * A random swarm from `seed`: a 16–256 MiB NAR, 2–8 random peers (0.5–50
 * MB/s, 5–400 ms RTT, up to 50 % jitter, full or a random range of blocks;
 * some leave, stall, corrupt, answer busy or join late), plus two reliable
 * peers `r1` and `r2` that between them hold every block.
 *
 * @example
 * ```ts
 * import { randomSwarm } from "./scenarios.ts";
 * randomSwarm(7).peers.at(-1)?.id; // "r2"
 * ```
 */
export function randomSwarm(seed: number): Scenario {
  const rand = mulberry32(seed);
  const narSize = Math.floor((16 + rand() * 240) * 1024 * 1024);
  const blockCount = Math.ceil(narSize / BLOCK);
  const peers: SimPeer[] = [];
  const n = 2 + Math.floor(rand() * 7);
  for (let k = 0; k < n; k++) {
    const from = Math.floor(rand() * blockCount);
    const to = from + Math.floor(rand() * blockCount);
    const kind = rand();
    peers.push({
      id: `p${k}`,
      bytesPerSecond: 0.5e6 + rand() * 50e6,
      rttMs: 5 + rand() * 400,
      jitter: rand() * 0.5,
      have: rand() < 0.5 ? "all" : { get: (i) => i >= from && i < to },
      ...(kind < 0.15 ? { leaveAtMs: rand() * 5000 } : {}),
      ...(kind >= 0.15 && kind < 0.3 ? { stallAtMs: rand() * 5000 } : {}),
      ...(kind >= 0.3 && kind < 0.4 ? { corruptRate: rand() * 0.5 } : {}),
      ...(kind >= 0.4 && kind < 0.5 ? { busyRate: rand() * 0.3 } : {}),
      ...(kind >= 0.5 && kind < 0.6 ? { joinAtMs: rand() * 3000 } : {}),
    });
  }
  const cut = Math.floor(rand() * blockCount);
  peers.push({
    id: "r1",
    bytesPerSecond: 2e6 + rand() * 20e6,
    rttMs: 30,
    have: { get: (i) => i < cut + 1 },
  });
  peers.push({
    id: "r2",
    bytesPerSecond: 2e6 + rand() * 20e6,
    rttMs: 90,
    have: { get: (i) => i >= cut },
  });
  return { narSize, blockSize: BLOCK, peers };
}

/**
 * Average fraction of the NAR that was streamable over the download:
 * the time-average of `contiguousPrefix / blockCount` (0.5 = linear).
 *
 * @example
 * ```ts
 * import { meanPrefix } from "./scenarios.ts";
 * meanPrefix({ timeMs: 10, blockCount: 2, prefixTrace: [[0, 0], [5, 1], [10, 2]] }); // 0.25
 * ```
 */
export function meanPrefix(
  r: { timeMs: number; blockCount: number; prefixTrace: [number, number][] },
): number {
  const tr = r.prefixTrace;
  let area = 0;
  for (let k = 1; k < tr.length; k++) area += (tr[k]![0] - tr[k - 1]![0]) * tr[k - 1]![1];
  return r.timeMs > 0 ? area / r.timeMs / r.blockCount : 1;
}
