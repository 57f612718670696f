import { assertEquals } from "@std/assert";
import { consumptionOrder, type OrderedItem } from "./_order.ts";

const item = (name: string, narSize: number, references: string[] = []): OrderedItem => ({
  storePath: `/gnu/store/${name}`,
  narSize,
  references,
});
const names = (items: OrderedItem[]) => items.map((it) => it.storePath.slice(11));

Deno.test("dependencies come before the items that refer to them, smallest first in a level", () => {
  const items = [
    item("d-app", 10, ["c-lib", "a-libc", "d-app"]),
    item("c-lib", 500, ["a-libc"]),
    item("b-data", 7),
    item("a-libc", 900, ["a-libc"]),
    item("e-doc", 3, ["b-data"]),
  ];
  assertEquals(names(consumptionOrder(items)), ["b-data", "a-libc", "e-doc", "c-lib", "d-app"]);
});

Deno.test("references outside the batch, missing ones and cycles do not stop the order", () => {
  const items = [
    item("x", 2, ["y", "not-in-batch"]),
    item("y", 1, ["x"]),
    { storePath: "/gnu/store/z", narSize: 0 },
  ];
  const order = names(consumptionOrder(items));
  assertEquals(order.length, 3);
  assertEquals(order[0], "z");
});

Deno.test("a deep chain is ordered without recursion limits", () => {
  const n = 20_000;
  const items = Array.from({ length: n }, (_, i) => item(`i${i}`, 1, i > 0 ? [`i${i - 1}`] : []));
  const order = names(consumptionOrder(items.toReversed()));
  assertEquals(order[0], "i0");
  assertEquals(order[n - 1], `i${n - 1}`);
});
