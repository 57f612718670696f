import { assertEquals, assertThrows } from "@std/assert";
import { ZstdFrameChecker } from "./_zstd_frames.ts";
import { DecompressionError } from "./errors.ts";

/** A valid zstd frame holding `content` in one raw block (single segment, 1-byte size). */
function rawFrame(content: number[], checksum = false): number[] {
  const n = content.length;
  const descriptor = 0x20 | (checksum ? 0x04 : 0); // single segment, 1-byte content size
  const block = (n << 3) | 1; // last block, raw
  return [
    0x28,
    0xb5,
    0x2f,
    0xfd,
    descriptor,
    n,
    block & 0xff,
    (block >> 8) & 0xff,
    block >> 16,
    ...content,
    ...(checksum ? [1, 2, 3, 4] : []),
  ];
}

function skippable(payload: number[]): number[] {
  const n = payload.length;
  return [0x50, 0x2a, 0x4d, 0x18, n & 0xff, (n >> 8) & 0xff, 0, 0, ...payload];
}

function feedAll(bytes: number[], size: number): { pieces: number[][]; checker: ZstdFrameChecker } {
  const checker = new ZstdFrameChecker();
  const data = new Uint8Array(bytes);
  const pieces: number[][] = [];
  for (let p = 0; p < data.length; p += size) {
    for (const piece of checker.feed(data.subarray(p, p + size))) pieces.push(Array.from(piece));
  }
  checker.end();
  return { pieces, checker };
}

Deno.test("ZstdFrameChecker splits at frame ends and drops skippable frames", () => {
  const a = rawFrame([1, 2, 3]);
  const b = rawFrame([4, 5], true);
  const input = [...a, ...skippable([9, 9, 9]), ...b];
  for (const size of [1, 2, 5, 7, 13, 100]) {
    const { pieces, checker } = feedAll(input, size);
    assertEquals(checker.frames, 3, `chunks of ${size}`);
    // Concatenating the pieces gives the zstd frames without the skippable one.
    assertEquals(pieces.flat(), [...a, ...b], `chunks of ${size}`);
    // No piece spans two frames: re-split the pieces at the boundary between a and b.
    let offset = 0;
    for (const piece of pieces) {
      const start = offset;
      offset += piece.length;
      assertEquals(start < a.length && offset > a.length, false, `chunks of ${size}`);
    }
  }
});

Deno.test("ZstdFrameChecker rejects truncation, garbage, empty input and reserved bits", () => {
  const frame = rawFrame([1, 2, 3, 4, 5], true);
  for (let cut = 1; cut < frame.length; cut++) {
    const e = assertThrows(
      () => feedAll(frame.slice(0, cut), 3),
      DecompressionError,
      "truncated inside a frame",
    );
    assertEquals(e.offset, cut);
  }
  assertThrows(() => feedAll([], 1), DecompressionError, "empty input");
  assertThrows(
    () => feedAll([...frame, 0x3c, 0x68, 0x74, 0x6d], 4),
    DecompressionError,
    "trailing data after the last frame: magic number 0x6d74683c",
  );
  assertThrows(
    () => feedAll([0x3c, 0x68, 0x74, 0x6d, 0x6c], 8),
    DecompressionError,
    "not a zstd frame",
  );
  const reserved = frame.slice();
  reserved[4] = reserved[4]! | 0x08;
  assertThrows(() => feedAll(reserved, 8), DecompressionError, "reserved bit set");
  const badBlock = frame.slice();
  badBlock[6] = badBlock[6]! | 0x06; // block type 3
  assertThrows(() => feedAll(badBlock, 8), DecompressionError, "reserved block type 3");
});
