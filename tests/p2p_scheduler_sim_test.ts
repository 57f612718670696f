/**
 * Deterministic simulations of multi-peer downloads driven by the block
 * scheduler (seeded generator, simulated clock, discrete events: no real
 * time passes). Peers differ in bandwidth, latency, jitter and availability;
 * one leaves midway, one stops answering, one sends bad blocks, one lacks
 * blocks its manifest claims (`mixedSwarm`, `randomSwarm` in
 * tests/support/scheduler_sim/scenarios.ts).
 */
import { assert, assertEquals } from "@std/assert";
import { meanPrefix, mixedSwarm, randomSwarm } from "./support/scheduler_sim/scenarios.ts";
import {
  type SimPeer,
  type SimResult,
  simulateDownload,
} from "./support/scheduler_sim/simulate.ts";
import type { BlockSchedulerOptions } from "../src/p2p/scheduler/mod.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const BLOCK = 256 * KiB;

function runMixed(seed: number, scheduler: Partial<BlockSchedulerOptions> = {}) {
  const prefixes: number[] = [];
  const result = simulateDownload({
    narSize: GiB,
    blockSize: BLOCK,
    seed,
    peers: mixedSwarm(GiB).peers,
    scheduler: { requestTimeoutMs: 10_000, ...scheduler },
    observe: (_t, s) => prefixes.push(s.contiguousPrefix),
  });
  return { result, prefixes };
}

const peer = (r: SimResult, id: string) => r.peers.find((p) => p.id === id)!;

function assertMonotonic(prefixes: number[], what: string) {
  for (let k = 1; k < prefixes.length; k++) {
    assert(prefixes[k]! >= prefixes[k - 1]!, `${what}: prefix went back at event ${k}`);
  }
}

Deno.test("1 GiB from eight mixed peers: completes, fast peers do more, little is duplicated", () => {
  for (const seed of [1, 2, 3]) {
    const { result: r, prefixes } = runMixed(seed);
    const where = `seed ${seed}`;
    assert(r.completed, `${where}: did not complete (unavailable ${r.unavailable.length})`);
    assertEquals(r.blockCount, 4096);
    assertEquals(r.peers.reduce((a, p) => a + p.blocks, 0), 4096, "each block counted once");
    assertMonotonic(prefixes, where);
    assertEquals(prefixes[prefixes.length - 1], 4096);
    // Duplicated bytes stay small.
    assert(r.duplicateBytes < 0.05 * GiB, `${where}: ${r.duplicateBytes} duplicated bytes`);
    // The faulty peers were dealt with by the caller's policies.
    assertEquals(peer(r, "leaves").removed, "left");
    assertEquals(peer(r, "stalls").removed, "timeouts");
    assertEquals(peer(r, "corrupt").removed, "banned");
    assertEquals(peer(r, "corrupt").rejected, 5);
    for (const id of ["fast", "medium", "modest", "slow", "partial"]) {
      assertEquals(peer(r, id).removed, undefined, `${where}: ${id} removed`);
    }
    // Reliable full peers get blocks in proportion to their bandwidth (within 15 %).
    const full = [["fast", 40], ["medium", 20], ["modest", 10]] as const;
    const perMB = full.map(([id, mb]) => peer(r, id).blocks / mb);
    const avg = perMB.reduce((a, x) => a + x, 0) / perMB.length;
    for (const [k, [id]] of full.entries()) {
      assert(
        Math.abs(perMB[k]! / avg - 1) < 0.15,
        `${where}: ${id} got ${peer(r, id).blocks} blocks (${
          perMB.map((x) => x.toFixed(1))
        } per MB/s)`,
      );
    }
    // The partial peer is only ever asked for what it has.
    assert(peer(r, "partial").blocks > 0);
    // At least as fast as the peers that stay to the end running flat out on their own.
    const stayers = (40e6 + 20e6 + 10e6 + 1e6 + 10e6) / 1000;
    assert(r.timeMs < (GiB / stayers) * 1.05, `${where}: ${r.timeMs} ms`);
    // The streamed prefix keeps up: close to linear progress (0.5).
    assert(meanPrefix(r) > 0.4, `${where}: mean prefix ${meanPrefix(r).toFixed(2)}`);
  }
});

Deno.test("the endgame cuts the slow-peer tail", () => {
  for (const seed of [1, 2, 3]) {
    const on = runMixed(seed).result;
    const off = runMixed(seed, { endgameDuplicates: 0 }).result;
    assert(off.completed && on.completed);
    assertEquals(off.duplicateBytes, 0, "no duplicates without endgame (nor stall guard)");
    assert(on.endgameAtMs !== undefined && off.endgameAtMs !== undefined);
    const tailOn = on.timeMs - on.endgameAtMs;
    const tailOff = off.timeMs - off.endgameAtMs;
    assert(
      tailOn < tailOff * 0.8,
      `seed ${seed}: tail ${tailOn.toFixed(0)} ms with endgame, ${tailOff.toFixed(0)} ms without`,
    );
    assert(on.timeMs < off.timeMs, `seed ${seed}: ${on.timeMs} vs ${off.timeMs} ms`);
  }
  // A single slow peer among fast ones: without the endgame it holds the last blocks.
  const peers: SimPeer[] = [
    { id: "fast-1", bytesPerSecond: 50e6, rttMs: 10 },
    { id: "fast-2", bytesPerSecond: 50e6, rttMs: 10 },
    { id: "dial-up", bytesPerSecond: 0.25e6, rttMs: 600 },
  ];
  const run = (endgameDuplicates: number) =>
    simulateDownload({
      narSize: 256 * MiB,
      blockSize: BLOCK,
      seed: 9,
      peers,
      scheduler: { endgameDuplicates },
    });
  const on = run(2);
  const off = run(0);
  const ideal = (256 * MiB) / 100e3; // the two fast peers alone, in ms
  assert(on.timeMs < ideal * 1.05, `with endgame: ${on.timeMs} ms, ideal ${ideal} ms`);
  assert(off.timeMs > on.timeMs + 500, `without endgame: ${off.timeMs} ms`);
  assert(on.duplicateBytes <= 3 * BLOCK, `${on.duplicateBytes} duplicated bytes`);
});

Deno.test("full seeders: in-order download, the prefix trails the received blocks closely", () => {
  // Streaming lag: the prefix always covers as many blocks as were present 1.5 s earlier.
  const history: [number, number][] = [];
  let worstLagMs = 0;
  const r = simulateDownload({
    narSize: GiB,
    blockSize: BLOCK,
    seed: 4,
    peers: [
      { id: "a", bytesPerSecond: 40e6, rttMs: 20, jitter: 0.3 },
      { id: "b", bytesPerSecond: 20e6, rttMs: 60, jitter: 0.3 },
      { id: "c", bytesPerSecond: 10e6, rttMs: 100, jitter: 0.3 },
      { id: "d", bytesPerSecond: 5e6, rttMs: 150, jitter: 0.3 },
    ],
    observe: (t, s) => {
      const present = s.blockCount - s.remaining;
      history.push([t, present]);
      // The latest time at which `present` did not exceed the current prefix.
      let k = history.length - 1;
      while (k > 0 && history[k]![1] > s.contiguousPrefix) k--;
      worstLagMs = Math.max(worstLagMs, t - history[k]![0]);
    },
  });
  assert(r.completed);
  assert(
    worstLagMs < 1500,
    `the prefix lagged ${worstLagMs.toFixed(0)} ms behind the received blocks`,
  );
  assert(meanPrefix(r) > 0.45, `mean prefix ${meanPrefix(r)}`);
  const shares = r.peers.map((p) => p.blocks / r.blockCount);
  const bw = [40, 20, 10, 5].map((x) => x / 75);
  for (const [k, share] of shares.entries()) {
    assert(Math.abs(share / bw[k]! - 1) < 0.15, `peer ${k}: share ${share}, bandwidth ${bw[k]}`);
  }
  assert(r.duplicateBytes < 0.01 * GiB, `${r.duplicateBytes}`);
});

Deno.test("randomized swarms: the download completes whenever the data stays available", () => {
  let duplicated = 0;
  let total = 0;
  for (let seed = 100; seed < 130; seed++) {
    const { narSize, peers } = randomSwarm(seed);
    const blockCount = Math.ceil(narSize / BLOCK);
    const prefixes: number[] = [];
    const r = simulateDownload({
      narSize,
      blockSize: BLOCK,
      seed,
      peers,
      scheduler: { requestTimeoutMs: 5000 },
      observe: (_t, s) => prefixes.push(s.contiguousPrefix),
    });
    const where = `seed ${seed} (${peers.length} peers, ${blockCount} blocks)`;
    assert(r.completed, `${where}: stopped at ${r.timeMs} ms, unavailable ${r.unavailable.length}`);
    assertMonotonic(prefixes, where);
    // Racing duplicates at the very end cost a few blocks, whatever the size.
    assert(
      r.duplicateBytes <= 0.05 * narSize + 8 * BLOCK,
      `${where}: ${r.duplicateBytes / BLOCK} duplicated blocks`,
    );
    assertEquals(r.peers.reduce((a, p) => a + p.blocks, 0), blockCount);
    duplicated += r.duplicateBytes;
    total += narSize;
  }
  assert(
    duplicated < 0.015 * total,
    `${((100 * duplicated) / total).toFixed(2)} % duplicated overall`,
  );
});

Deno.test("when the only holder of some blocks leaves, the download stops and names them", () => {
  const blockCount = 400;
  const r = simulateDownload({
    narSize: blockCount * BLOCK,
    blockSize: BLOCK,
    seed: 5,
    peers: [
      { id: "full", bytesPerSecond: 10e6, rttMs: 40, leaveAtMs: 2000 },
      { id: "half", bytesPerSecond: 10e6, rttMs: 40, have: { get: (i) => i < 200 } },
    ],
  });
  assertEquals(r.completed, false);
  assertEquals(peer(r, "full").removed, "left");
  const got = peer(r, "full").blocks + peer(r, "half").blocks;
  assertEquals(r.unavailable.length, blockCount - got, "every missing block is named");
  assert(r.unavailable.every((i) => i >= 200), "the half peer's blocks all arrived");
  assert(r.unavailable.length > 0);
});
