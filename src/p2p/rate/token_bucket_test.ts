import { assert, assertEquals, assertThrows } from "@std/assert";
import { ManualClock, RateLimitError, TokenBucket } from "./mod.ts";

Deno.test("token bucket: starts full, refills at the rate, never above the burst", () => {
  const clock = new ManualClock();
  const b = new TokenBucket({ bytesPerSecond: 1000, burst: 500, now: clock.now });
  assertEquals(b.available(), 500);
  assertEquals(b.tryTake(400), true);
  assertEquals(b.tryTake(101), false);
  assertEquals(b.available(), 100);
  clock.advance(250);
  assertEquals(b.available(), 350);
  clock.advance(10_000);
  assertEquals(b.available(), 500, "capped at the burst");
  assertEquals(b.msUntil(500), 0);
  b.tryTake(500);
  assertEquals(b.msUntil(100), 100);
});

Deno.test("token bucket: amounts above the burst are lent and wait their proportional time", () => {
  const clock = new ManualClock();
  const b = new TokenBucket({ bytesPerSecond: 1e6, burst: 65536, now: clock.now });
  assertEquals(b.msUntil(65537), Infinity, "tryTake can never take more than the burst");
  assertEquals(b.tryTake(1_065_536), false);
  assertEquals(b.take(1_065_536), 1000, "the missing 1 MB at 1 MB/s");
  assertEquals(b.available(), -1_000_000);
  clock.advance(1000);
  assertEquals(b.available(), 0);
  // Idle time never builds more than the burst.
  clock.advance(60_000);
  assertEquals(b.take(1_065_536), 1000);
});

Deno.test("token bucket: setRate keeps what accrued; 0 is unlimited", () => {
  const clock = new ManualClock();
  const b = new TokenBucket({ bytesPerSecond: 1000, burst: 1000, now: clock.now });
  b.tryTake(1000);
  clock.advance(100); // +100 at the old rate
  b.setRate(10_000, 5000);
  assertEquals(b.available(), 100);
  clock.advance(100); // +1000 at the new rate
  assertEquals(b.available(), 1100);
  b.setRate(0);
  assertEquals(b.available(), Infinity);
  assertEquals(b.tryTake(1e12), true);
  assertEquals(b.take(1e12), 0);
  assertEquals(b.msUntil(1e12), 0);
  b.setRate(1000, 2000);
  assertEquals(b.available(), 2000, "back from unlimited: full");
  assert(b.burst === 2000 && b.bytesPerSecond === 1000);
});

Deno.test("token bucket: bad options and amounts are refused, naming the value", () => {
  assertThrows(
    () => new TokenBucket({ bytesPerSecond: -1 }),
    RateLimitError,
    "bytesPerSecond must be a finite number >= 0 (0: unlimited), got -1",
  );
  assertThrows(
    () => new TokenBucket({ bytesPerSecond: 10, burst: 0 }),
    RateLimitError,
    "burst must be a positive number of bytes, got 0",
  );
  const b = new TokenBucket({ bytesPerSecond: 10 });
  assertEquals(b.burst, 65536, "default burst: at least 64 KiB");
  assertThrows(
    () => b.tryTake(1.5),
    RateLimitError,
    "amount must be a non-negative integer, got 1.5",
  );
  assertEquals(new TokenBucket({ bytesPerSecond: 100e6 }).burst, 10e6, "default burst: 100 ms");
});

Deno.test("manual clock: timers fire in deadline order at their deadline; cancel works", () => {
  const clock = new ManualClock(10);
  const log: string[] = [];
  clock.setTimer(() => log.push(`b@${clock.now()}`), 20);
  clock.setTimer(() => log.push(`a@${clock.now()}`), 5);
  const cancel = clock.setTimer(() => log.push("never"), 7);
  clock.setTimer(() => log.push(`c@${clock.now()}`), 20);
  cancel();
  assertEquals(clock.pending, 3);
  assertEquals(clock.nextAt, 15);
  clock.advance(19);
  assertEquals(log, ["a@15"]);
  assertEquals(clock.now(), 29);
  assertEquals(clock.fireNext(), true);
  assertEquals(clock.fireNext(), true);
  assertEquals(clock.fireNext(), false);
  assertEquals(log, ["a@15", "b@30", "c@30"]);
  assertThrows(() => clock.advance(-1), RangeError, "ms must be >= 0, got -1");
});
