/**
 * Byte-exact vectors written by hand from docs/protocol.md §3.1–§3.3, so that
 * another implementation can check itself against the same bytes. Each vector
 * is `u32 length | u8 version | u8 type | u32 id | body`, spaced by field.
 */
import { assert, assertEquals } from "@std/assert";
import { hexDecode } from "../../encoding/hex.ts";
import { Bitfield } from "./bitfield.ts";
import { decodeBlock, decodeFrame, encodeFrame, type WireMessage } from "./mod.ts";

const hex = (spaced: string) => hexDecode(spaced.replace(/\s+/g, ""));
const rep = (byte: string, n: number) => byte.repeat(n);
const seq32 = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0")).join("");

const AA = new Uint8Array(32).fill(0xaa);

const vectors: { name: string; bytes: Uint8Array; message: WireMessage }[] = [
  {
    name: "GET_MANIFEST id 1, nar_hash 00 01 .. 1f",
    // length 38 = 6 + 32
    bytes: hex(`00000026 02 01 00000001 ${seq32}`),
    message: {
      kind: "get-manifest",
      id: 1,
      narHash: Uint8Array.from({ length: 32 }, (_, i) => i),
    },
  },
  {
    name: "MANIFEST: nar_size 20000, block_size 16 KiB, 2 blocks, relayed, has only block 1",
    // length 120 = 6 + 32 + 8 + 4 + 4 + 1 (flags) + 1 (bitfield) + 2 × 32
    bytes: hex(`00000078 02 02 0a0b0c0d ${rep("aa", 32)}
      0000000000004e20 00004000 00000002 00 40 ${rep("11", 32)} ${rep("22", 32)}`),
    message: {
      kind: "manifest",
      id: 0x0a0b0c0d,
      manifest: {
        narHash: AA,
        narSize: 20000,
        blockSize: 16384,
        blockCount: 2,
        have: (() => {
          const b = new Bitfield(2);
          b.set(1);
          return b;
        })(),
        hashes: new Uint8Array([
          ...new Uint8Array(32).fill(0x11),
          ...new Uint8Array(32).fill(0x22),
        ]),
        verified: false,
      },
    },
  },
  {
    name: "GET_BLOCKS id 2, indexes 0, 5, 0x01020304",
    // length 54 = 6 + 32 + 4 + 3 × 4
    bytes: hex(`00000036 02 03 00000002 ${rep("aa", 32)} 00000003 00000000 00000005 01020304`),
    message: { kind: "get-blocks", id: 2, narHash: AA, indexes: [0, 5, 0x01020304] },
  },
  {
    name: "BLOCK raw: id 2, index 5, raw_length 3, 'abc'",
    // length 18 = 6 + 4 + 1 + 4 + 3
    bytes: hex(`00000012 02 04 00000002 00000005 00 00000003 616263`),
    message: {
      kind: "block",
      id: 2,
      index: 5,
      encoding: "raw",
      rawLength: 3,
      data: new TextEncoder().encode("abc"),
    },
  },
  {
    name: "BLOCK zstd: 'abc' as a one-raw-block zstd frame",
    // zstd frame: magic 28b52ffd | FHD 0x20 (single segment, 1-byte content size) | size 03 |
    // last raw block of 3 bytes: header (3 << 3) | 1 = 0x19 0x00 0x00 | 'abc'. length 6 + 9 + 12 = 27.
    bytes: hex(`0000001b 02 04 00000002 00000006 01 00000003 28b52ffd 20 03 190000 616263`),
    message: {
      kind: "block",
      id: 2,
      index: 6,
      encoding: "zstd",
      rawLength: 3,
      data: hex("28b52ffd 20 03 190000 616263"),
    },
  },
  {
    name: "NOT_FOUND id 3",
    bytes: hex(`00000026 02 05 00000003 ${rep("aa", 32)}`),
    message: { kind: "not-found", id: 3, narHash: AA },
  },
  {
    name: "ERROR id 4, busy (2), 'slow down'",
    // length 17 = 6 + 2 + 9
    bytes: hex(`00000011 02 06 00000004 0002 736c6f7720646f776e`),
    message: { kind: "error", id: 4, code: "busy", message: "slow down" },
  },
  {
    name: "ERROR id 5, not available (1), UTF-8 'café'",
    bytes: hex(`0000000d 02 06 00000005 0001 636166c3a9`),
    message: { kind: "error", id: 5, code: "not-available", message: "café" },
  },
  {
    name: "HAVE id 6, two hashes",
    // length 74 = 6 + 4 + 2 × 32
    bytes: hex(`0000004a 02 08 00000006 00000002 ${seq32} ${rep("aa", 32)}`),
    message: {
      kind: "have",
      id: 6,
      narHashes: [Uint8Array.from({ length: 32 }, (_, i) => i), AA],
    },
  },
  {
    name: "HAVE_REPLY id 6: complete, none, partial",
    bytes: hex(`0000000d 02 09 00000006 00000003 01 00 02`),
    message: { kind: "have-reply", id: 6, states: ["complete", "none", "partial"] },
  },
  {
    name: "GET_NARS id 7, one hash",
    bytes: hex(`0000002a 02 0a 00000007 00000001 ${rep("aa", 32)}`),
    message: { kind: "get-nars", id: 7, narHashes: [AA] },
  },
  {
    name: "NAR raw: id 7, 'abc'",
    // length 46 = 6 + 32 + 1 + 4 + 3
    bytes: hex(`0000002e 02 0b 00000007 ${rep("aa", 32)} 00 00000003 616263`),
    message: {
      kind: "nar",
      id: 7,
      narHash: AA,
      encoding: "raw",
      rawLength: 3,
      data: new TextEncoder().encode("abc"),
    },
  },
  {
    name: "CANCEL id 2, index 5",
    bytes: hex(`0000000e 02 07 00000002 00000001 00000005`),
    message: { kind: "cancel", id: 2, indexes: [5] },
  },
];

for (const { name, bytes, message } of vectors) {
  Deno.test(`golden vector: ${name}`, () => {
    assertEquals(encodeFrame(message), bytes, "encoding");
    assertEquals(decodeFrame(bytes), message, "decoding");
  });
}

Deno.test("golden zstd BLOCK decodes to 'abc' with our decoder and with the zstd tool", async () => {
  const frame = hex("28b52ffd 20 03 190000 616263");
  assertEquals(new TextDecoder().decode(decodeBlock("zstd", frame, 3)), "abc");
  const child = new Deno.Command("zstd", { args: ["-dcq"], stdin: "piped", stdout: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(frame);
  await writer.close();
  const out = await child.output();
  assert(out.success, "zstd -d rejected the golden frame");
  assertEquals(new TextDecoder().decode(out.stdout), "abc");
});
