import { assertEquals } from "@std/assert";
import { createHmac } from "node:crypto";
import { sha256 } from "./sha256.ts";
import { hmacSha256Small, sha256Small } from "./sha256_small.ts";

Deno.test("sha256Small agrees with node:crypto on strings, empty input and several sizes", () => {
  assertEquals(
    Array.from(sha256Small("abc"), (b) => b.toString(16).padStart(2, "0")).join(""),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 4097]) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    assertEquals(sha256Small(bytes), sha256(bytes), `${n} bytes`);
  }
});

Deno.test("hmacSha256Small agrees with node:crypto for short and long keys", () => {
  for (const keyLength of [0, 32, 64, 100]) {
    const key = crypto.getRandomValues(new Uint8Array(keyLength));
    const parts = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(70).fill(9)];
    const mac = createHmac("sha256", key);
    for (const p of parts) mac.update(p);
    assertEquals(hmacSha256Small(key, parts), new Uint8Array(mac.digest()), `key ${keyLength}`);
  }
});
