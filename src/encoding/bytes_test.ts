import { assertEquals, assertThrows } from "@std/assert";
import { concatBytes } from "./bytes.ts";

Deno.test("concatBytes joins parts in order, empty parts included", () => {
  assertEquals(concatBytes([]), new Uint8Array(0));
  assertEquals(
    concatBytes([Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)]),
    Uint8Array.of(1, 2, 3),
  );
  const part = Uint8Array.of(9);
  const joined = concatBytes([part]);
  joined[0] = 0;
  assertEquals(part[0], 9, "always a new array");
});

Deno.test("concatBytes with a total that is too small throws instead of truncating", () => {
  assertEquals(concatBytes([Uint8Array.of(1), Uint8Array.of(2)], 2), Uint8Array.of(1, 2));
  assertThrows(() => concatBytes([Uint8Array.of(1), Uint8Array.of(2)], 1), RangeError);
});
