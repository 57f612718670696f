import { assertEquals } from "@std/assert";
import { EventRing } from "./event_ring.ts";

Deno.test("EventRing keeps the newest events, in order, with payloads cut to size", () => {
  let t = 0;
  const ring = new EventRing({ capacity: 3, maxPayloadChars: 40, now: () => ++t });
  for (let i = 1; i <= 5; i++) ring.push("seed:added", { n: i });
  assertEquals(ring.list().map((e) => e.id), [3, 4, 5]);
  assertEquals(ring.list(3).map((e) => e.id), [4, 5]);
  assertEquals(ring.list(0, 1).map((e) => e.id), [5]);
  assertEquals(ring.total, 5);
  assertEquals(ring.list()[0], { id: 3, time: 3, type: "seed:added", data: { n: 3 } });
  const big = ring.push("daemon:warning", { message: "y".repeat(1000) });
  assertEquals(big.data, { truncated: `{"message":"${"y".repeat(28)}…` });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assertEquals(typeof ring.push("x", cyclic).data, "string", "unserialisable payloads become text");
});
