/**
 * Structural check of a single zstd frame (RFC 8878 §3.1.1) without decoding
 * it: header fields, block headers, checksum, and that the frame ends exactly
 * at the end of the data. Deno 2.9.6's `zstdDecompressSync` silently accepts
 * truncated frames, trailing bytes, a second frame (dropped) and empty input,
 * so a `BLOCK`'s zstd data is walked first.
 *
 * @example
 * ```ts
 * import zlib from "node:zlib";
 * import { inspectZstdFrame } from "./_zstd_frame.ts";
 * const frame = zlib.zstdCompressSync(new Uint8Array(1000), { pledgedSrcSize: 1000 } as zlib.ZstdOptions);
 * inspectZstdFrame(frame).contentSize; // 1000
 * ```
 * @module
 */
import { BlockCodecError } from "./errors.ts";

const MAGIC = 0xfd2fb528;
/** No block regenerates more than 128 KiB. */
const BLOCK_SIZE_MAX = 128 * 1024;

/** What the frame header and block headers say. */
export interface ZstdFrameInfo {
  /** Frame_Content_Size, when the header carries it. */
  contentSize: number | undefined;
  /** Window size the decoder needs (= content size for single-segment frames). */
  windowSize: number;
  /** Exact output of the raw and RLE blocks (compressed blocks not counted). */
  knownOutput: number;
  /** Number of compressed blocks (each regenerates at most 128 KiB). */
  compressedBlocks: number;
}

/**
 * Walks one zstd frame that must span all of `data`.
 * @throws {BlockCodecError} naming the byte offset and what is wrong.
 */
export function inspectZstdFrame(data: Uint8Array): ZstdFrameInfo {
  const fail = (what: string, at: number) =>
    new BlockCodecError(`zstd data: ${what} at byte ${at} of ${data.length}`);
  const need = (at: number, n: number, what: string) => {
    if (at + n > data.length) throw fail(`truncated ${what}`, at);
  };
  need(0, 5, "frame header");
  const magic = (data[0]! | data[1]! << 8 | data[2]! << 16 | data[3]! << 24) >>> 0;
  if (magic !== MAGIC) {
    throw fail(`bad magic number 0x${magic.toString(16).padStart(8, "0")}, expected 0xfd2fb528`, 0);
  }
  const fhd = data[4]!;
  if (fhd & 0x08) {
    throw fail(`reserved bit set in frame header descriptor 0x${fhd.toString(16)}`, 4);
  }
  const single = (fhd & 0x20) !== 0;
  const checksum = (fhd & 0x04) !== 0;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fhd >> 6]!;
  let at = 5;
  let windowSize = 0;
  if (!single) {
    need(at, 1, "window descriptor");
    const wd = data[at]!;
    const base = 2 ** (10 + (wd >> 3));
    windowSize = base + (base / 8) * (wd & 7);
    at += 1;
  }
  need(at, dictBytes + fcsBytes, "frame header");
  const dictId = readLe(data, at, dictBytes);
  if (dictId !== 0) throw fail(`frame needs dictionary ${dictId}`, at);
  at += dictBytes;
  let contentSize: number | undefined;
  if (fcsBytes > 0) {
    contentSize = readLe(data, at, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
    at += fcsBytes;
  }
  if (single) windowSize = contentSize!;
  const blockMax = Math.min(windowSize, BLOCK_SIZE_MAX);
  let knownOutput = 0;
  let compressedBlocks = 0;
  for (let last = false; !last;) {
    need(at, 3, "block header");
    const header = data[at]! | data[at + 1]! << 8 | data[at + 2]! << 16;
    last = (header & 1) !== 0;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw fail("reserved block type", at);
    if (size > blockMax) {
      throw fail(`block size ${size} exceeds the maximum ${blockMax}`, at);
    }
    at += 3;
    if (type === 1) {
      need(at, 1, "RLE block");
      knownOutput += size;
      at += 1;
    } else {
      need(at, size, type === 0 ? "raw block" : "compressed block");
      if (type === 0) knownOutput += size;
      else compressedBlocks++;
      at += size;
    }
  }
  if (checksum) {
    need(at, 4, "content checksum");
    at += 4;
  }
  if (at !== data.length) throw fail(`${data.length - at} trailing bytes after the frame`, at);
  return { contentSize, windowSize, knownOutput, compressedBlocks };
}

function readLe(data: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + data[at + i]!;
  return v;
}
