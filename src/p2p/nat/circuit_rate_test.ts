import { assertEquals, assertThrows } from "@std/assert";
import { CircuitRate } from "./circuit_rate.ts";

Deno.test("a peer opens perMinute circuits at once, then one per 60/perMinute seconds", () => {
  let t = 0;
  const rate = new CircuitRate({ perMinute: 3, now: () => t });
  assertEquals([1, 2, 3, 4].map(() => rate.allow("a")), [true, true, true, false]);
  assertEquals(rate.allow("b"), true, "budgets are per peer");
  t = 19_000;
  assertEquals(rate.allow("a"), false);
  t = 20_001;
  assertEquals(rate.allow("a"), true);
  assertEquals(rate.allow("a"), false);
});

Deno.test("the number of tracked peers is bounded", () => {
  const rate = new CircuitRate({ perMinute: 1, maxPeers: 10 });
  for (let i = 0; i < 100; i++) rate.allow(`p${i}`);
  assertEquals(rate.size, 10);
  assertThrows(() => new CircuitRate({ perMinute: 0 }), RangeError, "at least 1");
});
