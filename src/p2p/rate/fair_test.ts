import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { FairRateLimiter, ManualClock, RateLimitError } from "./mod.ts";

const KiB = 1024;

/** Lets granted consumers run until `n` requests wait in the limiter again (bounded). */
async function settle(lim: FairRateLimiter, n: number | (() => number)): Promise<void> {
  const want = typeof n === "number" ? () => n : n;
  for (let i = 0; lim.waiting < want(); i++) {
    if (i > 100_000) throw new Error(`limiter has ${lim.waiting} waiting, expected ${want()}`);
    await Promise.resolve();
  }
}

type Grant = { t: number; key: string; bytes: number };

/** A consumer with `parallel` requests of `chunk` bytes always outstanding. */
function greedy(
  lim: FairRateLimiter,
  clock: ManualClock,
  key: string,
  chunk: number,
  parallel: number,
  log: Grant[],
): void {
  const loop = async () => {
    for (;;) {
      try {
        await lim.acquire(key, chunk);
      } catch {
        return; // closed
      }
      log.push({ t: clock.now(), key, bytes: chunk });
    }
  };
  for (let k = 0; k < parallel; k++) loop();
}

/** Fires timers until `untilMs`, letting consumers re-queue in between. */
async function run(
  clock: ManualClock,
  lim: FairRateLimiter,
  untilMs: number,
  waiting: () => number,
) {
  while (clock.now() < untilMs) {
    await settle(lim, waiting);
    if (!clock.fireNext()) break;
  }
  await settle(lim, waiting);
}

const bytesBy = (log: Grant[], key: string, from = 0, to = Infinity) =>
  log.filter((g) => g.key === key && g.t >= from && g.t <= to).reduce((a, g) => a + g.bytes, 0);

Deno.test("fair limiter: N greedy keys each get 1/N, the total rate holds within 1 % over a minute", async () => {
  const clock = new ManualClock();
  const rate = 1_000_000;
  const lim = new FairRateLimiter({ bytesPerSecond: rate, burst: 64 * KiB, ...clock });
  const log: Grant[] = [];
  const keys = ["a", "b", "c", "d"];
  // Each key keeps 8 requests of 16 KiB outstanding: as fast as it can.
  for (const key of keys) greedy(lim, clock, key, 16 * KiB, 8, log);
  await run(clock, lim, 60_000, () => 32);
  const total = log.filter((g) => g.t <= 60_000).reduce((a, g) => a + g.bytes, 0);
  assert(Math.abs(total / (rate * 60) - 1) < 0.01, `total ${total} bytes in 60 s`);
  assert(total <= rate * 60 + 64 * KiB, "never above rate x time + burst");
  for (const key of keys) {
    const share = bytesBy(log, key, 0, 60_000) / total;
    assert(Math.abs(share - 0.25) < 0.25 * 0.02, `${key}: share ${share}`);
  }
  assertEquals(lim.stats().totalBytes, log.reduce((a, g) => a + g.bytes, 0));
  assertEquals(lim.bytesFor("a"), bytesBy(log, "a"));
  lim.close();
});

Deno.test("fair limiter: fairness is by bytes, not requests; a greedy key cannot starve the others", async () => {
  const clock = new ManualClock();
  const lim = new FairRateLimiter({ bytesPerSecond: 2_000_000, burst: 64 * KiB, ...clock });
  const log: Grant[] = [];
  greedy(lim, clock, "hog", 256 * KiB, 16, log); // big requests, many at once
  greedy(lim, clock, "small", 4 * KiB, 1, log); // small requests, one at a time
  greedy(lim, clock, "medium", 32 * KiB, 2, log);
  await run(clock, lim, 30_000, () => 19);
  const total = bytesBy(log, "hog") + bytesBy(log, "small") + bytesBy(log, "medium");
  for (const key of ["hog", "small", "medium"]) {
    const share = bytesBy(log, key) / total;
    assert(Math.abs(share - 1 / 3) < 0.03, `${key}: share ${share.toFixed(3)}`);
  }
  lim.close();
});

Deno.test("fair limiter: a key arriving late is served within about one round", async () => {
  const clock = new ManualClock();
  const rate = 1_000_000;
  const chunk = 16 * KiB;
  const lim = new FairRateLimiter({ bytesPerSecond: rate, burst: 64 * KiB, ...clock });
  const log: Grant[] = [];
  for (const key of ["a", "b", "c", "d"]) greedy(lim, clock, key, chunk, 8, log);
  await run(clock, lim, 30_000, () => 32);
  const asked = clock.now();
  let servedAt: number | undefined;
  lim.acquire("late", chunk).then(() => servedAt = clock.now(), () => {});
  await run(clock, lim, asked + 1000, () => (servedAt === undefined ? 33 : 32));
  assert(servedAt !== undefined, "never served");
  const oneRound = (4 * chunk * 1000) / rate; // every other key's next request
  assert(
    servedAt - asked <= oneRound + 1,
    `waited ${servedAt - asked} ms, one round is ${oneRound} ms`,
  );
  // 32 requests were queued ahead of it: first come, first served would take twice as long.
  assert(oneRound < (32 * chunk * 1000) / rate / 2);
  lim.close();
});

Deno.test("fair limiter: a request larger than the burst waits its proportional time", async () => {
  const clock = new ManualClock();
  const lim = new FairRateLimiter({ bytesPerSecond: 1_000_000, burst: 64 * KiB, ...clock });
  let done = false;
  const big = lim.acquire("big", 1_065_536).then(() => done = true);
  await settle(lim, 1);
  assertEquals(clock.nextAt, 1000, "64 KiB were there, 1 MB more at 1 MB/s");
  clock.fireNext();
  await settle(lim, 0);
  await big;
  assert(done);
  // The bucket is empty now: the next request waits for its own bytes.
  const next = lim.acquire("big", 500_000);
  assertEquals(clock.nextAt, 1500);
  lim.close();
  await assertRejects(() => next, RateLimitError);
});

Deno.test("fair limiter: 0 is unlimited; setRate changes the rate at run time and 0 releases waiters", async () => {
  const clock = new ManualClock();
  const lim = new FairRateLimiter({ bytesPerSecond: 0, ...clock });
  for (let k = 0; k < 1000; k++) await lim.acquire("x", 1 << 20);
  assertEquals(lim.bytesFor("x"), 1000 << 20);
  assertEquals(clock.pending, 0, "no timer when unlimited");

  lim.setRate(1_000_000, 64 * KiB);
  const log: Grant[] = [];
  greedy(lim, clock, "a", 16 * KiB, 4, log);
  greedy(lim, clock, "b", 16 * KiB, 4, log);
  await run(clock, lim, 10_000, () => 8);
  lim.setRate(250_000, 64 * KiB);
  await run(clock, lim, 20_000, () => 8);
  const first = bytesBy(log, "a", 0, 10_000) + bytesBy(log, "b", 0, 10_000);
  const second = bytesBy(log, "a", 10_001, 20_000) + bytesBy(log, "b", 10_001, 20_000);
  assert(Math.abs(first / 10e6 - 1) < 0.01, `first 10 s: ${first}`);
  assert(Math.abs(second / 2.5e6 - 1) < 0.02, `second 10 s: ${second}`);
  // 0 releases everybody at once.
  const before = log.length;
  lim.setRate(0);
  await Promise.resolve();
  await Promise.resolve();
  assert(log.length >= before + 8, "the 8 waiting requests were granted");
  assertEquals(clock.nextAt, undefined);
  lim.close();
  await settle(lim, 0);
});

Deno.test("fair limiter: an aborted request leaves the queue, rejects with the reason, and is not counted", async () => {
  const clock = new ManualClock();
  const lim = new FairRateLimiter({ bytesPerSecond: 1000, burst: 1000, ...clock });
  await lim.acquire("a", 1000);
  const ctl = new AbortController();
  const aborted = lim.acquire("a", 500, { signal: ctl.signal });
  let bDone = false;
  lim.acquire("b", 500).then(() => bDone = true);
  assertEquals(lim.waiting, 2);
  ctl.abort(new Error("peer went away"));
  await assertRejects(() => aborted, Error, "peer went away");
  assertEquals(lim.waiting, 1);
  assertEquals(clock.nextAt, 500, "b now goes first");
  clock.fireNext();
  await Promise.resolve();
  assert(bDone);
  assertEquals(lim.bytesFor("a"), 1000);
  assertEquals(lim.stats().keys.find((k) => k.key === "b")?.waitedMs, 500);
  await assertRejects(
    () => lim.acquire("a", 1, { signal: AbortSignal.abort(new Error("already")) }),
    Error,
    "already",
  );
  lim.close();
});

Deno.test("fair limiter: close() rejects waiting and later requests; bad input is refused", async () => {
  const clock = new ManualClock();
  const lim = new FairRateLimiter({ bytesPerSecond: 1000, burst: 1000, ...clock });
  await lim.acquire("a", 1000);
  const waiting = lim.acquire("a", 10);
  lim.close();
  await assertRejects(() => waiting, RateLimitError, "rate limiter closed");
  await assertRejects(() => lim.acquire("a", 1), RateLimitError, "closed");
  assertEquals(clock.pending, 0, "the timer was cancelled");
  assertEquals(lim.waiting, 0);

  using open = new FairRateLimiter({ bytesPerSecond: 1000, ...clock });
  await assertRejects(
    () => open.acquire("k", -1),
    RateLimitError,
    'bytes must be a non-negative integer, got -1 (key "k")',
  );
  await assertRejects(
    () => open.acquire(7 as unknown as string, 1),
    RateLimitError,
    "key must be a string",
  );
  assertThrows(
    () => new FairRateLimiter({ bytesPerSecond: NaN }),
    RateLimitError,
    "bytesPerSecond must be a finite number >= 0 (0: unlimited), got NaN",
  );
  assertThrows(
    () => open.setRate(100, -5),
    RateLimitError,
    "burst must be a positive number of bytes, got -5",
  );
  await open.acquire("k", 0);
  open.forget("k");
  assertEquals(open.stats().keys, []);
});
