import { assertEquals } from "@std/assert";
import { describeBytes, lzipDictionarySize } from "./_lzip.ts";

Deno.test("lzipDictionarySize decodes the coded byte", () => {
  assertEquals(lzipDictionarySize(0x0c), 4096); // the minimum
  assertEquals(lzipDictionarySize(0x10), 65536); // lzip -0
  assertEquals(lzipDictionarySize(0x17), 8 << 20); // plzip -6
  assertEquals(lzipDictionarySize(0x19), 32 << 20); // -9
  assertEquals(lzipDictionarySize(0x1d), 512 << 20); // the maximum
  // base 2^20 minus 6/16 of it
  assertEquals(lzipDictionarySize(0xd4), (1 << 20) - 6 * (1 << 16));
  assertEquals(lzipDictionarySize(0x1f), 2 ** 31); // out of range, rejected by the decoder
});

Deno.test("describeBytes shows hex and printable text", () => {
  assertEquals(describeBytes(new Uint8Array([0x4c, 0x5a, 0x00])), '4c 5a 00 ("LZ.")');
  assertEquals(
    describeBytes(new TextEncoder().encode("garbage after")),
    '67 61 72 62 61 67 65 20 ("garbage ")...',
  );
});
