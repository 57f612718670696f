import { assertEquals, assertThrows } from "@std/assert";
import { EncodingError } from "./errors.ts";
import { hexDecode } from "./hex.ts";
import { nix32Decode, nix32Encode } from "./nix32.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("nix32 encodes the worked examples of the protocol doc", () => {
  assertEquals(nix32Encode(new Uint8Array([1, 2])), "00h1");
  assertEquals(nix32Encode(enc("f")), "36");
  assertEquals(nix32Encode(enc("fo")), "0vv6");
  assertEquals(nix32Encode(enc("foobar")), "3jc5i6yvv6");
  assertEquals(
    nix32Encode(hexDecode("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")),
    "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
  );
  assertEquals(nix32Encode(new Uint8Array()), "");
});

Deno.test("nix32 round-trips random byte strings of every length", () => {
  for (let len = 0; len < 70; len++) {
    const bytes = crypto.getRandomValues(new Uint8Array(len));
    assertEquals(nix32Decode(nix32Encode(bytes), len), bytes);
  }
});

Deno.test("nix32 decoding is strict", () => {
  assertThrows(() => nix32Decode("00he", 2), EncodingError, 'invalid character "e" at position 3');
  assertThrows(() => nix32Decode("0h1", 2), EncodingError, "expected 4 characters");
  // 52 chars for 32 bytes leave 4 overflow bits: the first character must be 0 or 1.
  assertThrows(
    () => nix32Decode("2mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73", 32),
    EncodingError,
    "overflow",
  );
  assertThrows(() => nix32Decode("é0h1", 2), EncodingError);
});
