import { assertEquals } from "@std/assert";
import { Crc64, crc64 } from "./_crc64.ts";

Deno.test("crc64 matches the CRC-64/XZ check value and is incremental", () => {
  const digits = new TextEncoder().encode("123456789");
  assertEquals(crc64(digits), 0x995dc9bbdf1939fan);
  assertEquals(crc64(new Uint8Array(0)), 0n);
  const data = new Uint8Array(1000).map((_, i) => (i * 131 + 7) & 0xff);
  const whole = crc64(data);
  for (const split of [1, 3, 4, 5, 17, 999]) {
    const crc = new Crc64();
    for (let p = 0; p < data.length; p += split) crc.update(data.subarray(p, p + split));
    assertEquals(crc.value(), whole, `pieces of ${split}`);
  }
  // bytes() is the little-endian form stored in .xz blocks.
  assertEquals(
    Array.from(new Crc64().update(digits).bytes()),
    [0xfa, 0x39, 0x19, 0xdf, 0xbb, 0xc9, 0x5d, 0x99],
  );
});
