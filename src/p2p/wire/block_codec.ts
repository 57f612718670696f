/**
 * Block compression (docs/protocol.md §3.5): a block travels as one zstd
 * frame when that saves at least a few percent, else raw. Decoding never
 * produces (or allocates) more than the announced `raw_length`, and rejects
 * anything that is not exactly one well-formed zstd frame of that length.
 *
 * Uses `node:zlib` zstd (native, built into Deno 2.9.6; ../shared/docs/platform-notes.md §12).
 *
 * @example
 * ```ts
 * import { decodeBlock, encodeBlock } from "./block_codec.ts";
 * const raw = new TextEncoder().encode("guix ".repeat(10000));
 * const { encoding, data } = encodeBlock(raw); // encoding "zstd", data far smaller than raw
 * decodeBlock(encoding, data, raw.length); // bytes equal to raw
 * ```
 * @module
 */
import zlib from "node:zlib";
import { MAX_BLOCK_SIZE } from "./manifest.ts";
import { inspectZstdFrame } from "./_zstd_frame.ts";
import { BlockCodecError } from "./errors.ts";
import type { BlockEncoding } from "./messages.ts";

/** Default zstd level for blocks (see docs/benchmarks.md, "Block codec"). */
export const DEFAULT_ZSTD_LEVEL = 1;
/** Default minimum saving for zstd to be used: 1/32 of the block (~3 %). */
export const DEFAULT_MIN_SAVINGS = 1 / 32;
/** Largest zstd window a block may ask the decoder for (2^23 = 8 MiB). */
export const MAX_WINDOW_LOG = 23;

const {
  ZSTD_c_compressionLevel,
  ZSTD_c_checksumFlag,
  ZSTD_c_contentSizeFlag,
  ZSTD_d_windowLogMax,
} = zlib.constants;

/** A block as it goes on the wire. */
export interface EncodedBlock {
  /** `raw`: `data` is the block; `zstd`: one zstd frame of it. */
  encoding: BlockEncoding;
  /** The bytes to send. */
  data: Uint8Array;
}

/** Options of {@linkcode encodeBlock}. */
export interface EncodeBlockOptions {
  /** zstd level. Default {@linkcode DEFAULT_ZSTD_LEVEL}. */
  level?: number;
  /** Use zstd only if it saves at least this fraction of the block. Default 1/32. */
  minSavings?: number;
}

/**
 * Compresses a block with zstd (content size in the frame header, no
 * checksum: blocks are checked by SHA-256), or returns it raw when zstd does
 * not save at least `minSavings` of it. The raw result is `raw` itself.
 *
 * @example
 * ```ts
 * import { encodeBlock } from "./block_codec.ts";
 * const random = crypto.getRandomValues(new Uint8Array(65536));
 * encodeBlock(random).encoding; // "raw": incompressible
 * ```
 */
export function encodeBlock(raw: Uint8Array, options: EncodeBlockOptions = {}): EncodedBlock {
  const level = options.level ?? DEFAULT_ZSTD_LEVEL;
  const minSavings = options.minSavings ?? DEFAULT_MIN_SAVINGS;
  if (raw.length === 0) return { encoding: "raw", data: raw };
  // Three 4 KiB samples first: incompressible data (already compressed files, random
  // bytes) is sent raw without paying for a whole-block compression attempt.
  if (raw.length >= PROBE_MIN && !compressible(raw, level, minSavings)) {
    return { encoding: "raw", data: raw };
  }
  const out = zlib.zstdCompressSync(raw, {
    params: {
      [ZSTD_c_compressionLevel]: level,
      [ZSTD_c_checksumFlag]: 0,
      [ZSTD_c_contentSizeFlag]: 1,
    },
    pledgedSrcSize: raw.length,
  } as zlib.ZstdOptions);
  let length = out.length;
  // Deno's zstd appends an empty second frame when the first one ends just past a multiple of
  // its 16 KiB output chunk (e.g. 180,225 bytes + 9); the protocol wants exactly one frame.
  if (length > EMPTY_FRAME.length && endsWith(out, EMPTY_FRAME)) length -= EMPTY_FRAME.length;
  if (length > raw.length - Math.ceil(raw.length * minSavings)) {
    return { encoding: "raw", data: raw };
  }
  const frame = out.subarray(0, length);
  try {
    inspectZstdFrame(frame);
  } catch {
    return { encoding: "raw", data: raw }; // never send what our own decoder would refuse
  }
  // Small outputs sit in a larger pooled buffer: copy them so a cached block pins only itself.
  const data = frame.byteLength === frame.buffer.byteLength
    ? new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength)
    : new Uint8Array(frame);
  return { encoding: "zstd", data };
}

/** Blocks at least this large are probed before being compressed. */
const PROBE_MIN = 64 * 1024;
const PROBE_SIZE = 4 * 1024;

/** Whether any of three samples (start, middle, end) of `raw` compresses by `minSavings`. */
function compressible(raw: Uint8Array, level: number, minSavings: number): boolean {
  for (const at of [0, (raw.length - PROBE_SIZE) >> 1, raw.length - PROBE_SIZE]) {
    const sample = raw.subarray(at, at + PROBE_SIZE);
    const out = zlib.zstdCompressSync(sample, {
      params: { [ZSTD_c_compressionLevel]: level, [ZSTD_c_checksumFlag]: 0 },
    } as zlib.ZstdOptions);
    if (out.length <= PROBE_SIZE - PROBE_SIZE * minSavings) return true;
  }
  return false;
}

/** An empty single-segment zstd frame: magic, header 0x20, content size 0, last raw block of 0. */
const EMPTY_FRAME = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00);

function endsWith(bytes: Uint8Array, tail: Uint8Array): boolean {
  const at = bytes.length - tail.length;
  for (let i = 0; i < tail.length; i++) if (bytes[at + i] !== tail[i]) return false;
  return true;
}

/**
 * The raw block from a `BLOCK`'s encoding, data and raw_length. A raw block
 * is returned as is (same bytes object).
 * @throws {BlockCodecError} on a length mismatch, malformed or corrupt zstd data,
 * or zstd data that would decode to more than `rawLength` (never allocated).
 *
 * @example
 * ```ts
 * import { decodeBlock } from "./block_codec.ts";
 * decodeBlock("raw", new Uint8Array(3), 3).length; // 3
 * ```
 */
export function decodeBlock(
  encoding: BlockEncoding,
  data: Uint8Array,
  rawLength: number,
): Uint8Array {
  if (!Number.isInteger(rawLength) || rawLength < 0 || rawLength > MAX_BLOCK_SIZE) {
    throw new BlockCodecError(`raw_length ${rawLength} is not in [0, ${MAX_BLOCK_SIZE}]`);
  }
  if (encoding === "raw") {
    if (data.length !== rawLength) {
      throw new BlockCodecError(`raw block is ${data.length} bytes, raw_length says ${rawLength}`);
    }
    return data;
  }
  if (encoding !== "zstd") {
    throw new BlockCodecError(`unknown block encoding ${JSON.stringify(encoding)}`);
  }
  const info = inspectZstdFrame(data);
  if (info.contentSize !== undefined && info.contentSize !== rawLength) {
    throw new BlockCodecError(
      `zstd frame content size ${info.contentSize} differs from raw_length ${rawLength}`,
    );
  }
  if (info.windowSize > 2 ** MAX_WINDOW_LOG) {
    throw new BlockCodecError(
      `zstd frame window of ${info.windowSize} bytes exceeds ${2 ** MAX_WINDOW_LOG}`,
    );
  }
  if (info.knownOutput > rawLength) {
    throw new BlockCodecError(
      `zstd frame decodes to at least ${info.knownOutput} bytes, more than raw_length ${rawLength}`,
    );
  }
  let out: Uint8Array;
  try {
    out = zlib.zstdDecompressSync(data, {
      // maxOutputLength must be at least 1; an empty block is checked below.
      maxOutputLength: Math.max(rawLength, 1),
      params: { [ZSTD_d_windowLogMax]: MAX_WINDOW_LOG },
    } as zlib.ZstdOptions);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      throw new BlockCodecError(`zstd data decodes to more than raw_length ${rawLength}`, {
        cause: e,
      });
    }
    throw new BlockCodecError(`corrupt zstd data: ${(e as Error).message}`, { cause: e });
  }
  if (out.length !== rawLength) {
    throw new BlockCodecError(
      `zstd data decodes to ${out.length} bytes, raw_length says ${rawLength}`,
    );
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
