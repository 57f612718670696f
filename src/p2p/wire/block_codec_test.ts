import { assert, assertEquals, assertLessOrEqual, assertThrows } from "@std/assert";
import zlib from "node:zlib";
import { hexDecode } from "../../encoding/hex.ts";

const hex = (spaced: string) => hexDecode(spaced.replace(/\s+/g, ""));
import { randomBytes } from "../../../tests/support/random.ts";
import { decodeBlock, encodeBlock } from "./block_codec.ts";
import { BlockCodecError } from "./errors.ts";

const BLOCK = 262144;

/** Runs `zstd ARGS` with `input` on stdin; returns stdout. */
async function zstdTool(args: string[], input: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command("zstd", { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(input);
  await writer.close();
  const out = await child.output();
  assert(out.success, `zstd ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

/** A block of a real binary (Deno's own executable) and of text (a man-page-like corpus). */
function realBlocks(): { binary: Uint8Array; text: Uint8Array } {
  const binary = Deno.readFileSync(Deno.execPath()).slice(1 << 20, (1 << 20) + BLOCK);
  const words = "store path derivation substitute narinfo signature guix daemon build ".split(" ");
  let text = "";
  for (let i = 0; text.length < BLOCK; i++) text += words[(i * 7919) % words.length] + " ";
  return { binary, text: new TextEncoder().encode(text.slice(0, BLOCK)) };
}

Deno.test("zstd wins on binaries and text, raw wins on random data", () => {
  const { binary, text } = realBlocks();
  for (const [name, raw] of [["binary", binary], ["text", text]] as const) {
    const encoded = encodeBlock(raw);
    assertEquals(encoded.encoding, "zstd", name);
    assert(encoded.data.length < raw.length * 0.8, `${name}: ${encoded.data.length} bytes`);
    assertEquals(decodeBlock(encoded.encoding, encoded.data, raw.length), raw, name);
  }
  const random = randomBytes(BLOCK);
  const encoded = encodeBlock(random);
  assertEquals(encoded.encoding, "raw");
  assert(encoded.data === random, "the raw fallback is the block itself, not a copy");
  assertEquals(encodeBlock(new Uint8Array(0)).encoding, "raw");
});

Deno.test("the minimum saving decides between zstd and raw", () => {
  // Half random, half zeros: zstd saves about half.
  const raw = new Uint8Array(BLOCK);
  raw.set(randomBytes(BLOCK / 2));
  assertEquals(encodeBlock(raw).encoding, "zstd");
  assertEquals(encodeBlock(raw, { minSavings: 0.6 }).encoding, "raw");
  assertEquals(encodeBlock(raw, { level: 3 }).encoding, "zstd");
});

Deno.test("our frames carry the content size, no checksum, and the zstd tool decodes them", async () => {
  const { binary } = realBlocks();
  const { data } = encodeBlock(binary);
  const fhd = data[4]!;
  assert((fhd & 0x20) !== 0 || (fhd >> 6) !== 0, "frame content size present");
  assertEquals(fhd & 0x04, 0, "no checksum");
  assertEquals(await zstdTool(["-dcq"], data), binary);
});

Deno.test("frames written by the zstd tool decode, with and without content size and checksum", async () => {
  const { text, binary } = realBlocks();
  for (const raw of [text, binary]) {
    // From a pipe zstd does not know the size: no content size; --check adds a checksum.
    for (
      const args of [["-19", "-cq", "--check"], ["-1", "-cq", "--no-check"], ["--fast=5", "-cq"]]
    ) {
      const frame = await zstdTool(args, raw);
      assertEquals(decodeBlock("zstd", frame, raw.length), raw, args.join(" "));
    }
  }
});

Deno.test("a zip bomb is rejected without allocating its output", async () => {
  // 1 GiB through the real zstd tool (~32 KiB of data, no content size in the header): zeros
  // become RLE blocks, caught from the block headers; "y\n" lines become compressed blocks,
  // caught by the decoder's output bound.
  const bombs = [
    ["head -c 1073741824 /dev/zero | zstd -1 -cq", "decodes to at least"],
    [
      "yes | head -c 1073741824 | zstd -1 -cq",
      `zstd data decodes to more than raw_length ${BLOCK}`,
    ],
  ];
  for (const [script, message] of bombs) {
    const out = await new Deno.Command("sh", { args: ["-c", script!], stdout: "piped" }).output();
    assert(out.success, script);
    const bomb = out.stdout;
    assertLessOrEqual(bomb.length, 1 << 20);
    const before = Deno.memoryUsage().rss;
    assertThrows(() => decodeBlock("zstd", bomb, BLOCK), BlockCodecError, message);
    const grown = Deno.memoryUsage().rss - before;
    assertLessOrEqual(grown, 64 * 1024 * 1024, `RSS grew by ${grown} bytes`);
  }

  // Hand-made bomb of RLE blocks (each 4 bytes → 128 KiB): rejected from its headers alone.
  const rle = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]; // no content size, 2 MiB window
  const rleBlock = (last: boolean) => [((128 * 1024) << 3 | 2 | (last ? 1 : 0)) & 255, 0, 0x10, 0];
  const blocks = Array.from({ length: 4096 }, (_, i) => rleBlock(i === 4095)).flat();
  const rleBomb = new Uint8Array([...rle, ...blocks]);
  assertThrows(
    () => decodeBlock("zstd", rleBomb, BLOCK),
    BlockCodecError,
    "decodes to at least 536870912 bytes, more than raw_length 262144",
  );
  // A frame that honestly says it holds more than raw_length.
  const big = encodeBlock(new Uint8Array(BLOCK + 1));
  assertThrows(
    () => decodeBlock("zstd", big.data, BLOCK),
    BlockCodecError,
    "content size 262145 differs from raw_length 262144",
  );
});

Deno.test("corrupt, truncated, padded and foreign zstd data throw BlockCodecError", () => {
  const { text } = realBlocks();
  const { data } = encodeBlock(text);
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), "truncated frame header at byte 0 of 0"],
    [data.subarray(0, data.length - 10), "truncated"],
    [new Uint8Array([...data, 0]), "1 trailing bytes after the frame"],
    [new Uint8Array([...data, ...data]), "trailing bytes after the frame"],
    [hex("502a4d18 00000000"), "bad magic number 0x184d2a50"], // a skippable frame
    [hex("28b52ffd 28 03 190000 616263"), "reserved bit set"],
    [hex("28b52ffd 21 07 03 190000 616263"), "frame needs dictionary 7"],
    [hex("28b52ffd 20 03 1f0000 616263"), "reserved block type"],
  ];
  for (const [bytes, text] of cases) {
    assertThrows(() => decodeBlock("zstd", bytes, 3), BlockCodecError, text);
  }
  // Flipped bytes inside compressed content: the decoder reports corruption or a wrong length.
  let rejected = 0;
  for (let i = 0; i < 50; i++) {
    const bad = data.slice();
    const at = 10 + ((i * 9973) % (data.length - 10));
    bad[at]! ^= 1 << (i % 8);
    try {
      const out = decodeBlock("zstd", bad, text.length);
      // A flip can land in a literal and still decode: then the bytes differ (SHA-256 catches it).
      assert(out.length === text.length);
    } catch (e) {
      assert(e instanceof BlockCodecError, String(e));
      rejected++;
    }
  }
  assert(rejected > 0, "no corruption was detected at all");
});

Deno.test("raw blocks and lengths are checked", () => {
  const raw = new Uint8Array(10);
  assert(decodeBlock("raw", raw, 10) === raw);
  assertThrows(
    () => decodeBlock("raw", raw, 11),
    BlockCodecError,
    "raw block is 10 bytes, raw_length says 11",
  );
  assertThrows(
    () => decodeBlock("raw", raw, 2 ** 23),
    BlockCodecError,
    "raw_length 8388608 is not in",
  );
  assertThrows(
    () => decodeBlock("lz4" as "raw", raw, 10),
    BlockCodecError,
    'unknown block encoding "lz4"',
  );
  // A correct frame whose content is shorter than raw_length (no content size in the header).
  const short = zlib.zstdCompressSync(new Uint8Array(100));
  assertThrows(
    () => decodeBlock("zstd", short, 200),
    BlockCodecError,
    "decodes to 100 bytes, raw_length says 200",
  );
});

Deno.test("a block whose zstd output gets Deno's empty trailing frame is sent as one frame", () => {
  // Deno 2.9.6's zstd appends an empty frame (9 bytes) when the frame ends a few bytes past a
  // multiple of its 16 KiB output chunk. Such blocks: a real binary block (Deno's executable at
  // 8 MiB) with a growing pseudo-random prefix, so the output size sweeps the boundaries.
  const binary = Deno.readFileSync(Deno.execPath()).slice(8 << 20, (8 << 20) + BLOCK);
  const noise = new Uint8Array(BLOCK);
  let x = 2463534242;
  for (let i = 0; i < BLOCK; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    noise[i] = x & 255;
  }
  const options = {
    params: {
      [zlib.constants.ZSTD_c_compressionLevel]: 1,
      [zlib.constants.ZSTD_c_checksumFlag]: 0,
      [zlib.constants.ZSTD_c_contentSizeFlag]: 1,
    },
    pledgedSrcSize: BLOCK,
  } as zlib.ZstdOptions;
  const block = (k: number) => {
    const raw = binary.slice();
    raw.set(noise.subarray(0, k));
    return { raw, out: zlib.zstdCompressSync(raw, options) };
  };
  const EMPTY = [0x28, 0xb5, 0x2f, 0xfd, 0x20, 0, 1, 0, 0];
  let triggered = 0;
  for (let chunks = 10; chunks <= 14; chunks++) {
    let lo = 0, hi = BLOCK;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (block(mid).out.length < chunks * 16384 + 10) lo = mid;
      else hi = mid;
    }
    for (let k = Math.max(0, lo - 24); k < Math.min(BLOCK, lo + 24); k++) {
      const { raw, out } = block(k);
      if (out.subarray(out.length - 9).every((b, i) => b === EMPTY[i])) triggered++;
      const encoded = encodeBlock(raw);
      assertEquals(encoded.encoding, "zstd", `prefix ${k}`);
      assertEquals(decodeBlock("zstd", encoded.data, raw.length), raw, `prefix ${k}`);
    }
  }
  assert(triggered > 0, "no block near a 16 KiB boundary got the trailing empty frame");
});
