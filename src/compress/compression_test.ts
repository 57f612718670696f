import { assertEquals, assertThrows } from "@std/assert";
import { COMPRESSIONS, parseCompression } from "./compression.ts";
import { UnsupportedCompressionError } from "./errors.ts";

Deno.test("parseCompression accepts the narinfo names and nothing else", () => {
  for (const name of COMPRESSIONS) assertEquals(parseCompression(name), name);
  for (const bad of ["", "LZIP", "zstd ", "brotli", "lzma", "bz2"]) {
    const e = assertThrows(() => parseCompression(bad), UnsupportedCompressionError);
    assertEquals(e.compression, bad);
  }
  assertThrows(
    () => parseCompression("brotli"),
    UnsupportedCompressionError,
    'unsupported compression "brotli": not one of none, gzip, zstd, xz, lzip, bzip2',
  );
});
