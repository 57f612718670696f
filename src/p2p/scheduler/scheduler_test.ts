import { assert, assertEquals, assertThrows } from "@std/assert";
import { Bitfield } from "../wire/bitfield.ts";
import {
  BlockScheduler,
  type BlockSchedulerOptions,
  SchedulerError,
  UnknownPeerError,
} from "./mod.ts";

/** A scheduler on a manual clock. */
function setup(opts: Partial<BlockSchedulerOptions> & { blockCount: number }) {
  const clock = { t: 0 };
  const s = new BlockScheduler({ now: () => clock.t, requestTimeoutMs: 10_000, ...opts });
  return { s, clock };
}

function bits(size: number, indexes: Iterable<number>): Bitfield {
  const b = new Bitfield(size);
  for (const i of indexes) b.set(i);
  return b;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

Deno.test("options and calls are validated with messages naming the value", () => {
  const now = () => 0;
  assertThrows(
    () => new BlockScheduler({ blockCount: -1, now, requestTimeoutMs: 1 }),
    SchedulerError,
    "blockCount must be an integer in [0, 4294967295], got -1",
  );
  assertThrows(
    () => new BlockScheduler({ blockCount: 4, now, requestTimeoutMs: 0 }),
    SchedulerError,
    "requestTimeoutMs must be a positive number, got 0",
  );
  assertThrows(
    () =>
      new BlockScheduler({
        blockCount: 4,
        now,
        requestTimeoutMs: 1,
        initialWindow: 9,
        maxWindow: 8,
      }),
    SchedulerError,
    "initialWindow must be an integer in [1, 8], got 9",
  );
  assertThrows(
    () => new BlockScheduler({ blockCount: 4, now, requestTimeoutMs: 1, endgameDuplicates: 1.5 }),
    SchedulerError,
    "endgameDuplicates",
  );
  const { s } = setup({ blockCount: 8 });
  s.addPeer("a", "all");
  assertThrows(() => s.addPeer("a", "all"), SchedulerError, 'peer "a" was already added');
  assertThrows(() => s.next("zz"), UnknownPeerError, 'next(): unknown peer "zz"');
  assertThrows(
    () => s.received("a", 8),
    SchedulerError,
    'received(): block index 8 from peer "a" out of range [0, 8)',
  );
  assertThrows(() => s.markPresent(-1), SchedulerError, "markPresent(): block index -1");
  assertThrows(
    () => s.addPeer("b", new Bitfield(9)),
    SchedulerError,
    'availability of peer "b" has 9 bits, expected 8 (the block count)',
  );
  assertThrows(
    () => s.failed("a", 0, "gone" as "timeout"),
    SchedulerError,
    'reason must be one of timeout, not-available, busy, error, got "gone"',
  );
  assertThrows(() => s.received("a", 0, -5), SchedulerError, "bytes must be a non-negative");
});

Deno.test("full seeders: blocks go out in index order, spread over peers, within each window", () => {
  const { s } = setup({ blockCount: 20, initialWindow: 4 });
  s.addPeer("a", "all");
  s.addPeer("b", "all");
  assertEquals(s.next("a"), [0, 1, 2, 3]);
  assertEquals(s.next("b"), [4, 5, 6, 7]);
  assertEquals(s.next("a"), [], "window full");
  assertEquals(s.next("b", 2), [], "window full, whatever the max");
  s.received("a", 1);
  assertEquals(s.contiguousPrefix, 0, "block 0 still missing");
  // Slow start: one arrival adds one to the window, and frees one slot.
  assertEquals(s.peerStats("a").window, 5);
  assertEquals(s.next("a", 1), [8]);
  assertEquals(s.next("a"), [9]);
  s.received("a", 0);
  assertEquals(s.contiguousPrefix, 2);
  assertEquals(s.remaining, 18);
});

Deno.test("window: slow start doubles per round, a timeout halves it, then it grows by one per window", () => {
  const { s, clock } = setup({
    blockCount: 10_000,
    initialWindow: 4,
    maxWindow: 64,
    maxQueueDelayMs: Infinity,
    stallMinMs: Infinity,
  });
  s.addPeer("a", "all");
  const round = () => {
    const got = s.next("a");
    clock.t += 10;
    for (const i of got) s.received("a", i);
    return got.length;
  };
  assertEquals([round(), round(), round()], [4, 8, 16]);
  assertEquals(s.peerStats("a").window, 32);
  const held = s.next("a");
  assertEquals(held.length, 32);
  clock.t += 10_000;
  const expired = s.expired();
  assertEquals(expired.length, 32);
  assertEquals(s.failed("a", expired[0]!.index, "timeout"), true);
  assertEquals(s.peerStats("a").window, 16, "multiplicative decrease");
  assertEquals(s.peerStats("a").timeouts, 1);
  // Answer the rest so the window is free; no longer slow start: +1 per window of arrivals.
  for (const e of expired.slice(1)) s.received("a", e.index);
  assertEquals(s.peerStats("a").window, 17, "31 arrivals: 16 -> 17 (1/16 each, then 1/17)");
  const w0 = s.peerStats("a").window;
  for (let k = 0; k < w0; k++) {
    const [i] = s.next("a", 1);
    s.received("a", i!);
  }
  assertEquals(s.peerStats("a").window, w0 + 1, "one window of arrivals adds one block");
  // The window never exceeds maxWindow.
  for (let k = 0; k < 3000; k++) {
    const [i] = s.next("a", 1);
    if (i === undefined) break;
    s.received("a", i);
  }
  assertEquals(s.peerStats("a").window, 64);
});

Deno.test("busy halves the window and requeues; a late failure changes nothing", () => {
  const { s } = setup({ blockCount: 16, initialWindow: 8 });
  s.addPeer("a", "all");
  assertEquals(s.next("a"), range(0, 8));
  assertEquals(s.failed("a", 3, "busy"), true);
  assertEquals(s.peerStats("a").window, 4);
  assertEquals(s.peerStats("a").busy, 1);
  assertEquals(s.failed("a", 3, "busy"), false, "no longer in flight");
  assertEquals(s.peerStats("a").window, 4);
  // 7 in flight > window 4: nothing new until enough arrive.
  assertEquals(s.next("a"), []);
  for (const i of [0, 1, 2, 4]) s.received("a", i);
  assertEquals(s.next("a"), [3, 8], "window 5 (4 + 4 x 1/4): the requeued block comes first");
});

Deno.test("timeouts: expired() lists requests older than the timeout, oldest first; they are requeued", () => {
  const { s, clock } = setup({ blockCount: 8, requestTimeoutMs: 1000, stallMinMs: Infinity });
  s.addPeer("slow", "all");
  s.addPeer("fast", "all");
  assertEquals(s.next("slow", 2), [0, 1]);
  clock.t = 400;
  assertEquals(s.next("fast", 2), [2, 3]);
  assertEquals(s.nextExpiry, 1000);
  clock.t = 999;
  assertEquals(s.expired(), []);
  clock.t = 1000;
  assertEquals(s.expired(), [
    { peer: "slow", index: 0, sentAt: 0 },
    { peer: "slow", index: 1, sentAt: 0 },
  ]);
  for (const e of s.expired()) s.failed(e.peer, e.index, "timeout");
  assertEquals(s.nextExpiry, 1400);
  assertEquals(s.peerStats("slow").consecutiveTimeouts, 2);
  assertEquals(s.next("fast"), [0, 1], "requeued blocks go out again, lowest first");
  // A block that arrives after its request timed out is still accepted, and resets the count.
  s.received("slow", 0);
  assertEquals(s.peerStats("slow").consecutiveTimeouts, 0);
  assertEquals(s.isPresent(0), true);
  assertEquals(s.inFlightAt("fast"), [2, 3, 1], "fast's copy of 0 was withdrawn for CANCEL");
});

Deno.test("expired() and nextExpiry agree even when float rounding differs", () => {
  // sentAt + timeout rounds down to now, while now - sentAt < timeout.
  const clock = { t: 10648.34164339943 };
  const s = new BlockScheduler({ blockCount: 1, now: () => clock.t, requestTimeoutMs: 10_000 });
  s.addPeer("a", "all");
  s.next("a");
  clock.t = s.nextExpiry!;
  assertEquals(s.expired().length, 1, `nothing expired at nextExpiry ${clock.t}`);
});

Deno.test("not-available: the peer is not asked again for that block until its availability is updated", () => {
  const { s } = setup({ blockCount: 4, initialWindow: 4, endgameDuplicates: 0 });
  s.addPeer("a", "all");
  assertEquals(s.next("a"), [0, 1, 2, 3]);
  s.failed("a", 2, "not-available");
  s.received("a", 0);
  s.received("a", 1);
  s.received("a", 3);
  assertEquals(s.next("a"), [], "a said it lacks block 2");
  assertEquals(s.unavailable(), [2]);
  assertEquals(s.stuck, true);
  assertEquals(s.peerStats("a").notAvailable, 1);
  s.updateHave("a", "all");
  assertEquals(s.stuck, false);
  assertEquals(s.next("a"), [2]);
  s.received("a", 2);
  assertEquals(s.done, true);
  assertEquals(s.stuck, false);
});

Deno.test("error replies are treated like not-available for that block at that peer", () => {
  const { s } = setup({ blockCount: 2, endgameDuplicates: 0 });
  s.addPeer("a", "all");
  s.addPeer("b", "all");
  assertEquals(s.next("a", 1), [0]);
  s.failed("a", 0, "error");
  assertEquals(s.next("a", 1), [1]);
  assertEquals(s.next("a"), [], "not block 0 again");
  assertEquals(s.next("b"), [0]);
  assertEquals(s.peerStats("a").errors, 1);
});

Deno.test("rejected: requeued elsewhere, window halved, a fault counted, never asked again from that peer", () => {
  const { s } = setup({ blockCount: 8, initialWindow: 8, endgameDuplicates: 0 });
  s.addPeer("liar", "all");
  s.addPeer("good", "all");
  assertEquals(s.next("liar"), range(0, 8));
  s.rejected("liar", 5);
  assertEquals(s.peerStats("liar").faults, 1);
  assertEquals(s.peerStats("liar").window, 4);
  assertEquals(s.next("good"), [5]);
  s.failed("good", 5, "timeout");
  s.updateHave("liar", "all"); // a new manifest does not clear faults
  for (const i of [0, 1, 2, 3, 4, 6, 7]) s.received("liar", i);
  assertEquals(s.next("liar"), [], "liar is never asked for block 5 again");
  s.removePeer("good");
  assertEquals(s.unavailable(), [5]);
  assertEquals(s.stuck, true);
});

Deno.test("rarest first when availability is partial, index order among equals", () => {
  const { s } = setup({ blockCount: 12, initialWindow: 4, endgameDuplicates: 0 });
  s.addPeer("full", "all"); // has everything
  s.addPeer("half", bits(12, range(0, 6))); // blocks 0-5
  s.addPeer("some", bits(12, [0, 1, 2, 8])); // 0-2 held by 3 peers, 3-5 by 2, 8 by 2, 6,7,9-11 by 1
  assertEquals(s.next("full"), [6, 7, 9, 10], "blocks only 'full' has come first");
  assertEquals(s.next("half"), [3, 4, 5, 0], "held by 2 before held by 3");
  assertEquals(s.next("some"), [8, 1, 2]);
});

Deno.test("rarestFirst: false keeps index order whatever the availability", () => {
  const { s } = setup({ blockCount: 12, initialWindow: 4, rarestFirst: false });
  s.addPeer("full", "all");
  s.addPeer("half", bits(12, range(0, 6)));
  assertEquals(s.next("full"), [0, 1, 2, 3]);
  assertEquals(s.next("half"), [4, 5]);
});

Deno.test("preferInOrder: false spreads requests in a fixed shuffled order", () => {
  const { s } = setup({ blockCount: 64, initialWindow: 16, preferInOrder: false });
  s.addPeer("a", "all");
  const got = s.next("a");
  assertEquals(got.length, 16);
  assert(got.some((i, k) => k > 0 && i < got[k - 1]!), `not in index order: ${got}`);
  const { s: s2 } = setup({ blockCount: 64, initialWindow: 16, preferInOrder: false });
  s2.addPeer("a", "all");
  assertEquals(s2.next("a"), got, "the order is reproducible");
});

Deno.test("tieSeed: in order with full seeders; each download its own order while a leecher is known", () => {
  const crowd = (seed: number) => {
    const { s } = setup({
      blockCount: 256,
      initialWindow: 32,
      endgameDuplicates: 0,
      tieSeed: seed,
    });
    s.addPeer("seeder", "all");
    return s;
  };
  const alone = crowd(1);
  assertEquals(alone.next("seeder"), range(0, 32), "only full seeders: index order (streaming)");

  // Two leechers of one flash crowd, each also knowing the other (still at block 0).
  const a = crowd(1), b = crowd(2), again = crowd(1);
  for (const s of [a, b, again]) s.addPeer("other-leecher", bits(256, []));
  const fromA = a.next("seeder"), fromB = b.next("seeder");
  assertEquals(again.next("seeder"), fromA, "one seed, one order");
  assert(fromA.some((i, k) => k > 0 && i < fromA[k - 1]!), `not in index order: ${fromA}`);
  const overlap = fromA.filter((i) => fromB.includes(i)).length;
  assert(
    overlap < 16,
    `leechers with different seeds ask the seeder for different blocks (${overlap} of 32 shared)`,
  );

  // The leecher is gone: back to index order for what is still wanted.
  a.removePeer("other-leecher");
  a.addPeer("seeder-2", "all");
  const next = a.next("seeder-2");
  const wanted = range(0, 256).filter((i) => !fromA.includes(i)).slice(0, next.length);
  assertEquals(next, wanted);
  assertThrows(
    () => new BlockScheduler({ blockCount: 4, now: () => 0, requestTimeoutMs: 1, tieSeed: 0.5 }),
    SchedulerError,
    "tieSeed must be an integer, got 0.5",
  );
});

Deno.test("availability changes re-sort: a peer leaving makes its blocks rarer", () => {
  const { s } = setup({ blockCount: 6, initialWindow: 2, endgameDuplicates: 0 });
  s.addPeer("a", "all");
  s.addPeer("b", bits(6, [0, 1, 2]));
  s.addPeer("c", bits(6, [3, 4, 5]));
  assertEquals(s.next("a"), [0, 1], "all blocks held by two peers: in order");
  s.removePeer("c");
  assertEquals(s.next("b"), [2], "b has only block 2 wanted");
  s.received("a", 0);
  assertEquals(s.next("a", 1), [3], "3-5 are now held by one peer only");
});

Deno.test("endgame: idle peers duplicate the oldest outstanding requests, bounded, first arrival wins", () => {
  const { s, clock } = setup({ blockCount: 6, initialWindow: 3, endgameDuplicates: 2 });
  for (const p of ["a", "b", "c", "d", "e"]) s.addPeer(p, "all");
  assertEquals(s.next("a"), [0, 1, 2]);
  clock.t = 10;
  assertEquals(s.next("b"), [3, 4, 5]);
  assertEquals(s.endgame, true, "every missing block is in flight");
  clock.t = 20;
  assertEquals(s.next("c", 2), [0, 1], "oldest requests first");
  assertEquals(s.next("d"), [0, 1, 2]);
  assertEquals(s.next("c"), [2], "block 0 and 1 have 2 extra copies: c gets the next oldest, 2");
  assertEquals(s.next("e", 1), [3], "0, 1 and 2 are at 1 + 2 copies");
  s.failed("e", 3, "busy");
  // Each block at most 1 + 2 copies; a peer never holds two copies of one block.
  for (const p of ["a", "b", "c", "d"]) {
    const mine = s.inFlightAt(p);
    assertEquals(new Set(mine).size, mine.length);
  }
  assertEquals(s.stats().duplicateRequests, 7);
  clock.t = 30;
  const r = s.received("d", 0);
  assertEquals(r.fresh, true);
  assertEquals(r.duplicateAt.sort(), ["a", "c"]);
  assertEquals(s.peerStats("a").cancelled, 1);
  const late = s.received("a", 0);
  assertEquals(late, { fresh: false, duplicateAt: [] }, "arrived despite the CANCEL");
  assertEquals(s.peerStats("a").duplicates, 1);
  assertEquals(s.stats().duplicateArrivals, 1);
  // d's freed slot: a duplicate of the oldest block with room (3, 4 and 5 have one copy).
  assertEquals(s.next("d", 1), [3]);
});

Deno.test("endgame is off with endgameDuplicates: 0", () => {
  const { s } = setup({ blockCount: 2, endgameDuplicates: 0 });
  s.addPeer("a", "all");
  s.addPeer("b", "all");
  assertEquals(s.next("a"), [0, 1]);
  assertEquals(s.next("b"), []);
});

Deno.test("endgame waits until every servable missing block is in flight", () => {
  const { s } = setup({ blockCount: 6, initialWindow: 2 });
  s.addPeer("a", "all");
  s.addPeer("b", bits(6, [0, 1]));
  assertEquals(s.next("b"), [0, 1]);
  assertEquals(s.next("a"), [2, 3]);
  assertEquals(s.endgame, false, "4 and 5 are still wanted");
  const { s: s2 } = setup({ blockCount: 3, initialWindow: 2 });
  s2.addPeer("a", bits(3, [0, 1]));
  s2.addPeer("b", bits(3, [0, 1]));
  assertEquals(s2.next("a"), [0, 1]);
  assertEquals(s2.endgame, true, "block 2 is unavailable: the rest is in flight");
  assertEquals(s2.next("b"), [0, 1]);
});

Deno.test("removePeer: its blocks in flight go back to the queue", () => {
  const { s } = setup({ blockCount: 8, initialWindow: 4, endgameDuplicates: 0 });
  s.addPeer("a", "all");
  s.addPeer("b", "all");
  assertEquals(s.next("a"), [0, 1, 2, 3]);
  assertEquals(s.next("b"), [4, 5, 6, 7]);
  s.received("a", 1);
  assertEquals(s.removePeer("a"), [0, 2, 3]);
  assertEquals(s.hasPeer("a"), false);
  assertEquals(s.peers, ["b"]);
  assertThrows(() => s.received("a", 0), UnknownPeerError);
  s.received("b", 4);
  assertEquals(s.next("b", 1), [0]);
  s.addPeer("a", "all");
  assertEquals(s.next("a"), [2, 3], "a re-added starts afresh");
});

Deno.test("removing a duplicate holder keeps the block in flight at the other peer", () => {
  const { s } = setup({ blockCount: 1 });
  s.addPeer("a", "all");
  s.addPeer("b", "all");
  assertEquals(s.next("a"), [0]);
  assertEquals(s.next("b"), [0]);
  assertEquals(s.removePeer("b"), [], "still in flight at a");
  assertEquals(s.inFlightAt("a"), [0]);
  assertEquals(s.received("a", 0).duplicateAt, []);
  assertEquals(s.done, true);
  assertEquals(s.next("a"), []);
});

Deno.test("stuck detection: blocks nobody can serve", () => {
  const { s } = setup({ blockCount: 10, initialWindow: 8 });
  s.addPeer("a", bits(10, range(0, 7)));
  assertEquals(s.unavailable(), [7, 8, 9]);
  assertEquals(s.stuck, false, "0-6 can still be requested");
  for (const i of s.next("a")) s.received("a", i);
  assertEquals(s.contiguousPrefix, 7);
  assertEquals(s.stuck, true);
  assertEquals(s.unavailable(), [7, 8, 9]);
  s.addPeer("b", bits(10, [7, 8, 9]));
  assertEquals(s.stuck, false);
  assertEquals(s.unavailable(), []);
  assertEquals(s.next("b"), [7, 8, 9]);
  assertEquals(s.unavailable(), [], "in flight is not unavailable");
  s.removePeer("b");
  assertEquals(s.unavailable(), [7, 8, 9]);
  assertEquals(s.stuck, true);
});

Deno.test("markPresent (resuming): present blocks are never requested; in-flight copies are returned", () => {
  const { s } = setup({ blockCount: 6, initialWindow: 4 });
  for (const i of [0, 1, 3]) s.markPresent(i);
  assertEquals(s.contiguousPrefix, 2);
  assertEquals(s.isPresent(3), true);
  assertEquals(s.remaining, 3);
  s.addPeer("a", "all");
  assertEquals(s.next("a"), [2, 4, 5]);
  assertEquals(s.markPresent(4), { duplicateAt: ["a"] });
  assertEquals(s.markPresent(4), { duplicateAt: [] });
  assertEquals(s.inFlightAt("a"), [2, 5]);
  s.received("a", 2);
  s.received("a", 5);
  assertEquals(s.done, true);
  assertEquals(s.contiguousPrefix, 6);
  const { s: empty } = setup({ blockCount: 0 });
  assertEquals(empty.done, true);
  empty.addPeer("a", "all");
  assertEquals(empty.next("a"), []);
});

Deno.test("the queue-delay cap: a slow peer queues at most maxQueueDelayMs beyond its minimum round trip", () => {
  // A peer that delivers one block per 500 ms (the oldest asked): min rtt 500 ms.
  const { s, clock } = setup({ blockCount: 400, initialWindow: 4, maxQueueDelayMs: 1000 });
  s.addPeer("slow", "all");
  s.next("slow");
  for (let k = 0; k < 60; k++) {
    clock.t += 500;
    s.received("slow", s.inFlightAt("slow")[0]!, 262144);
    s.next("slow");
  }
  const st = s.peerStats("slow");
  assertEquals(st.window, 3, "(500 ms + 1000 ms) / 500 ms per block");
  assertEquals(st.inFlight, 3);
  assert(Math.abs(st.rttMs! - 1500) < 1, `rtt ${st.rttMs} ms: min rtt + 1000 ms of queue`);
  assert(Math.abs(st.bytesPerSecond - 524288) < 1, `throughput ${st.bytesPerSecond}`);
  // Without the cap, the same peer's window grows to the maximum (slow start).
  const { s: u, clock: c2 } = setup({
    blockCount: 400,
    initialWindow: 4,
    maxQueueDelayMs: Infinity,
  });
  u.addPeer("slow", "all");
  u.next("slow");
  for (let k = 0; k < 60; k++) {
    c2.t += 500;
    u.received("slow", u.inFlightAt("slow")[0]!);
    u.next("slow");
  }
  assertEquals(u.peerStats("slow").window, 64);
  assert(u.peerStats("slow").rttMs! > 10_000, "its queue is over 10 s deep");
});

Deno.test("rarityCap: availabilities from the cap up count as equal; Infinity is strict", () => {
  const holders = [6, 6, 7, 7, 1, 2, 7, 6]; // peers holding each block
  const make = (rarityCap: number) => {
    const { s } = setup({ blockCount: 8, initialWindow: 8, rarityCap, endgameDuplicates: 0 });
    for (let p = 0; p < 7; p++) {
      s.addPeer(`p${p}`, bits(8, range(0, 8).filter((i) => holders[i]! > p)));
    }
    return s.next("p0");
  };
  assertEquals(make(3), [4, 5, 0, 1, 2, 3, 6, 7]);
  assertEquals(make(Infinity), [4, 5, 0, 1, 7, 2, 3, 6]);
  assertThrows(
    () => make(1),
    SchedulerError,
    "rarityCap must be an integer >= 2 or Infinity, got 1",
  );
});

Deno.test("stall guard: a silent peer gets no new work and its blocks go to others, lowest first", () => {
  const { s, clock } = setup({ blockCount: 400, initialWindow: 4, stallMinMs: 1000 });
  // a holds the second half only, so its blocks are never at the head of the stream
  // (the head-of-line rescue has its own test): what moves them is the stall guard.
  s.addPeer("a", bits(400, range(200, 400)));
  s.addPeer("b", "all");
  assertEquals(s.next("a"), [200, 201, 202, 203]);
  assertEquals(s.next("b"), [0, 1, 2, 3], "rarest first: only b has 0-199");
  // a answers every 100 ms for a while (gap 100 ms, rtt about 400 ms)...
  for (let k = 0; k < 12; k++) {
    clock.t += 100;
    s.received("a", s.inFlightAt("a")[0]!);
    s.next("a");
    s.received("b", s.inFlightAt("b")[0]!);
    s.next("b");
  }
  const held = s.inFlightAt("a").sort((x, y) => x - y);
  assert(held.length >= 4, `a holds ${held}`);
  // ...then goes silent while b keeps answering every 100 ms.
  let rescued: number[] = [];
  let silentMs = 0;
  while (rescued.length === 0) {
    clock.t += 100;
    silentMs += 100;
    assert(silentMs <= 5000, "a never counted as stalled");
    s.received("b", s.inFlightAt("b")[0]!);
    rescued = s.next("b").filter((i) => held.includes(i));
  }
  const rtt = s.peerStats("a").rttMs!;
  assert(silentMs > Math.max(1000, 2 * rtt), `stalled after ${silentMs} ms (rtt ${rtt} ms)`);
  assert(silentMs <= Math.max(1000, 2 * rtt) + 100, `stalled only after ${silentMs} ms`);
  assertEquals(s.peerStats("a").stalled, true);
  assertEquals(rescued, held.slice(0, rescued.length), "lowest index first");
  assertEquals(s.next("a"), [], "a stalled peer gets no new work");
  assertEquals(s.stats().rescues, rescued.length);
  while (rescued.length < 2) {
    clock.t += 100;
    s.received("b", s.inFlightAt("b")[0]!);
    rescued.push(...s.next("b").filter((i) => held.includes(i)));
  }
  assertEquals(rescued, held.slice(0, rescued.length), "lowest index first");
  assertEquals(s.peerStats("a").window, 1, "the window collapsed");
  assertEquals(s.peerStats("a").stalls, 1);
  // A copy superseded while its peer is stalled counts as a timeout of that peer.
  assert(rescued.length >= 2, `rescued ${rescued}`);
  assertEquals(s.received("b", rescued[1]!).duplicateAt, ["a"]);
  assertEquals(s.peerStats("a").consecutiveTimeouts, 1);
  // a wakes up: the first arrival wins and the other copy is returned for CANCEL.
  assertEquals(s.received("a", held[0]!).duplicateAt, ["b"]);
  assertEquals(s.peerStats("a").stalled, false);
  assertEquals(s.peerStats("a").consecutiveTimeouts, 0);
  assertEquals(s.peerStats("a").timeouts, 1);
  // With the guard disabled, nothing is duplicated before the timeout.
  const { s: off, clock: c2 } = setup({ blockCount: 40, stallMinMs: Infinity });
  off.addPeer("a", "all");
  off.addPeer("b", "all");
  off.next("a");
  c2.t = 9000;
  assertEquals(off.next("b"), [4, 5, 6, 7]);
  assertEquals(off.peerStats("a").stalled, false);
});

Deno.test("streaming: a slow peer's head block is duplicated, and it then takes blocks further ahead", () => {
  const { s, clock } = setup({ blockCount: 1000, initialWindow: 2, stallMinMs: Infinity });
  s.addPeer("slow", "all"); // answers after 2000 ms
  s.addPeer("fast", "all"); // answers its oldest request every 5 ms (about 320 ms queued)
  assertEquals(s.next("slow"), [0, 1]);
  s.next("fast");
  let rescuedAt: number | undefined;
  let slowNext: number[] = [];
  while (clock.t < 2400) {
    clock.t += 5;
    s.received("fast", s.inFlightAt("fast")[0]!);
    if (clock.t === 2000) {
      s.received("slow", 0); // measured: 2000 ms round trip
      slowNext = s.next("slow");
    }
    const got = s.next("fast");
    if (got.includes(1)) rescuedAt ??= clock.t;
  }
  // Block 1, the head of the stream, would come from slow at about 4000 ms: fast gets it at once.
  assertEquals(rescuedAt, 2000);
  assertEquals(s.stats().rescues, 1);
  assert(s.contiguousPrefix > 400, `prefix ${s.contiguousPrefix}`);
  // Slow's new blocks start far past the prefix (then at 2): (its delay - fast's) x fast's rate.
  assert(slowNext.length > 0 && slowNext.every((i) => i > 600), `slow was given ${slowNext}`);
  // Past the end of what is left, a slow peer takes the blocks needed last.
  const { s: end, clock: c2 } = setup({ blockCount: 40, maxWindow: 4, stallMinMs: Infinity });
  end.addPeer("slow", "all");
  end.addPeer("fast", "all");
  end.next("slow");
  end.next("fast");
  for (c2.t = 100; c2.t <= 2000; c2.t += 100) {
    end.received("fast", end.inFlightAt("fast")[0]!);
    end.next("fast", 1);
  }
  end.received("slow", 0);
  const wanted = range(0, 40).filter((i) =>
    !end.isPresent(i) && !end.inFlightAt("fast").includes(i)
  )
    .filter((i) => !end.inFlightAt("slow").includes(i));
  assert(wanted.length > 4, `wanted ${wanted}`);
  assertEquals(end.next("slow"), [wanted.at(-1)!], "one free slot (window 4, 3 in flight)");
});

Deno.test("stall guard: a peer that never answered is stalled after requestTimeoutMs / 4", () => {
  const { s, clock } = setup({ blockCount: 8, requestTimeoutMs: 8000, initialWindow: 2 });
  s.addPeer("mute", "all");
  s.addPeer("ok", "all");
  assertEquals(s.next("mute"), [0, 1]);
  clock.t = 2000;
  assertEquals(s.next("ok", 1), [2], "2000 ms is not more than 8000 / 4");
  clock.t = 2001;
  assertEquals(s.next("ok", 1), [0]);
});

Deno.test("stats report per-peer counters and the round-trip time", () => {
  const { s, clock } = setup({ blockCount: 4 });
  s.addPeer("a", "all");
  s.next("a", 2);
  clock.t = 100;
  s.received("a", 0, 1000);
  clock.t = 200;
  s.received("a", 1, 1000);
  const st = s.peerStats("a");
  assertEquals(st.received, 2);
  assertEquals(st.requested, 2);
  assertEquals(st.bytes, 2000);
  assertEquals(st.bytesPerSecond, 10_000, "2000 bytes over 200 ms busy");
  assertEquals(st.rttMs, 100 + (200 - 100) / 8);
  const all = s.stats();
  assertEquals([all.present, all.inFlight, all.requests, all.contiguousPrefix], [2, 0, 2, 2]);
  assertEquals(all.peers.map((p) => p.peer), ["a"]);
});

Deno.test("a Bitfield's nextSet and a plain get() give the same availability", () => {
  const have = bits(100, range(10, 30));
  const { s: a } = setup({ blockCount: 100, initialWindow: 64 });
  const { s: b } = setup({ blockCount: 100, initialWindow: 64 });
  a.addPeer("p", have);
  b.addPeer("p", { get: (i) => have.get(i) });
  assertEquals(a.unavailable(), b.unavailable());
  assertEquals(a.next("p"), range(10, 30));
  assertEquals(b.next("p"), range(10, 30));
});

/** xorshift32: a small deterministic generator for the randomized test. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

Deno.test("randomized: invariants hold under any sequence of events, and the download completes", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rand = rng(seed);
    const n = 1 + Math.floor(rand() * 200);
    const dup = Math.floor(rand() * 3);
    const { s, clock } = setup({
      blockCount: n,
      initialWindow: 1 + Math.floor(rand() * 4),
      maxWindow: 8,
      endgameDuplicates: dup,
      rarestFirst: rand() < 0.7,
    });
    const haves = new Map<string, Bitfield | "all">();
    const faulted = new Map<string, Set<number>>();
    const lacks = new Map<string, Set<number>>();
    const inflight = new Map<string, Set<number>>();
    const addPeer = (id: string) => {
      const have = rand() < 0.5 ? "all" : bits(n, range(0, n).filter(() => rand() < 0.6));
      haves.set(id, have);
      faulted.set(id, new Set());
      lacks.set(id, new Set());
      inflight.set(id, new Set());
      s.addPeer(id, have);
    };
    const has = (id: string, i: number) => {
      const h = haves.get(id)!;
      return h === "all" || h.get(i);
    };
    for (let k = 0; k < 4; k++) addPeer(`p${k}`);
    addPeer("seed"); // one full seeder stays until the end
    haves.set("seed", "all");
    s.updateHave("seed", "all");
    let steps = 0;
    while (!s.done) {
      assert(steps++ < 100_000, `seed ${seed}: no progress`);
      clock.t += Math.floor(rand() * 50);
      const ids = [...haves.keys()];
      const id = ids[Math.floor(rand() * ids.length)]!;
      const mine = inflight.get(id)!;
      const r = rand();
      if (r < 0.45) {
        const got = s.next(id, 1 + Math.floor(rand() * 6));
        for (const i of got) {
          assert(!mine.has(i), `seed ${seed}: block ${i} twice in flight at ${id}`);
          assert(!s.isPresent(i), `seed ${seed}: present block ${i} requested`);
          assert(has(id, i), `seed ${seed}: block ${i} requested from ${id} which lacks it`);
          assert(!faulted.get(id)!.has(i), `seed ${seed}: faulted block ${i} asked of ${id}`);
          assert(!lacks.get(id)!.has(i), `seed ${seed}: refused block ${i} asked of ${id}`);
          mine.add(i);
        }
        assert(mine.size <= s.peerStats(id).window || got.length === 0, "window respected");
      } else if (mine.size > 0) {
        const i = [...mine][Math.floor(rand() * mine.size)]!;
        mine.delete(i);
        if (r < 0.8 || id === "seed") {
          const res = s.received(id, i);
          for (const other of res.duplicateAt) {
            assert(inflight.get(other)!.delete(i), `cancel for ${other} which did not hold ${i}`);
          }
        } else if (r < 0.85) {
          s.rejected(id, i);
          faulted.get(id)!.add(i);
        } else if (r < 0.9) {
          s.failed(id, i, "not-available");
          lacks.get(id)!.add(i);
        } else if (r < 0.95) {
          s.failed(id, i, "timeout");
        } else {
          s.failed(id, i, "busy");
        }
      } else if (r > 0.98 && id !== "seed") {
        const back = s.removePeer(id);
        for (const i of back) assert(!s.isPresent(i));
        haves.delete(id);
        addPeer(id);
      }
      // Copies per block within 1 + endgameDuplicates.
      const copies = new Map<number, number>();
      for (const set of inflight.values()) {
        for (const i of set) copies.set(i, (copies.get(i) ?? 0) + 1);
      }
      for (const [i, c] of copies) assert(c <= 1 + dup, `seed ${seed}: block ${i} has ${c} copies`);
      assertEquals(s.stats().inFlight, [...inflight.values()].reduce((a, x) => a + x.size, 0));
    }
    assertEquals(s.contiguousPrefix, n);
  }
});
