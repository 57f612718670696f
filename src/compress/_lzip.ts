/**
 * The lzip container (lzip manual, "File format"), decoded in TypeScript on
 * top of {@linkcode LzmaDecoder}. A file is one or more members:
 *
 * ```
 * "LZIP" | version (1) | coded dictionary size | LZMA data (lc=3 lp=0 pb=2, end marker)
 *        | CRC32 of the data (4, LE) | data size (8, LE) | member size (8, LE)
 * ```
 *
 * Every member's header, CRC32, data size and member size are checked.
 * Behaviour at the edges, matching `lzip -dc --trailing-error` (`-a`):
 * - empty input is an error;
 * - **any** bytes after the last member are an error ("trailing data"),
 *   where lzip by default ignores trailing bytes that do not look like a
 *   header; hostile or broken servers should not be able to append
 *   anything to a NAR download unnoticed;
 * - the sync-flush marker (lzlib `LZ_compress_sync_flush`, unused by lzip,
 *   plzip and Guix) is rejected as unsupported.
 *
 * @example
 * ```ts
 * import { LzipDecoder } from "./_lzip.ts";
 * import { syncEngine } from "./_sync_engine.ts";
 * const engine = syncEngine(new LzipDecoder({ maxDictionarySize: 32 << 20 }));
 * ```
 * @module
 */
import { crc32 } from "node:zlib";
import { LZMA_END, LzmaDataError, LzmaDecoder } from "./_lzma.ts";
import { type InputBuffer, NEED_INPUT, type SyncDecoder } from "./_sync_engine.ts";
import { DecompressionError } from "./errors.ts";

/** Smallest dictionary the lzip format allows (4 KiB). */
export const LZIP_MIN_DICTIONARY = 1 << 12;
/** Largest dictionary the lzip format allows (512 MiB). */
export const LZIP_MAX_DICTIONARY = 1 << 29;

const HEADER_SIZE = 6;
const TRAILER_SIZE = 20;
const MAGIC = [0x4c, 0x5a, 0x49, 0x50]; // "LZIP"
/** Output is handed out in pieces of at most this size. */
const OUT_CHUNK = 256 * 1024;

/** Options of {@linkcode LzipDecoder}. */
export interface LzipDecoderOptions {
  /** Reject members declaring a larger dictionary (default and maximum: 512 MiB). */
  maxDictionarySize?: number | undefined;
  /**
   * The most output the caller will accept: the window allocated is capped
   * at this plus one byte, so a small download never allocates a large
   * dictionary. Exceeding it is the caller's error to raise.
   */
  maxOutput?: number | undefined;
}

const PHASE_HEADER = 0;
const PHASE_START = 1;
const PHASE_DATA = 2;
const PHASE_TRAILER = 3;

/**
 * Decodes the coded dictionary size byte of an lzip header:
 * `2^(b & 31) - (2^(b & 31) / 16) * (b >> 5)`.
 *
 * @example
 * ```ts
 * import { lzipDictionarySize } from "./_lzip.ts";
 * lzipDictionarySize(0x17); // 8 MiB
 * lzipDictionarySize(0xd3); // 2^19 - 6 * 2^15 = 320 KiB
 * ```
 */
export function lzipDictionarySize(coded: number): number {
  const base = 2 ** (coded & 31);
  return base - (base / 16) * (coded >> 5);
}

/**
 * The lzip decoder as a {@linkcode SyncDecoder}.
 *
 * @example
 * ```ts
 * import { LzipDecoder } from "./_lzip.ts";
 * const lzip = new LzipDecoder({ maxOutput: 1 << 20 });
 * const input = { bytes: new Uint8Array(0), pos: 0, end: 0, offset: 0, ended: false };
 * lzip.decode(input); // NEED_INPUT
 * ```
 */
export class LzipDecoder implements SyncDecoder {
  readonly #lzma = new LzmaDecoder(3, 0, 2);
  readonly #maxDictionary: number;
  readonly #maxOutput: number;
  #phase = PHASE_HEADER;
  #members = 0;
  #memberStart = 0;
  #dictionarySize = 0;
  #crc = 0;
  #dataSize = 0;
  #flushStart = 0;

  /** Creates a decoder; see {@linkcode LzipDecoderOptions}. */
  constructor(options: LzipDecoderOptions = {}) {
    const max = options.maxDictionarySize ?? LZIP_MAX_DICTIONARY;
    if (!Number.isSafeInteger(max) || max < LZIP_MIN_DICTIONARY || max > LZIP_MAX_DICTIONARY) {
      throw new RangeError(
        `maxDictionarySize must be between ${LZIP_MIN_DICTIONARY} and ${LZIP_MAX_DICTIONARY}, got ${max}`,
      );
    }
    this.#maxDictionary = max;
    this.#maxOutput = options.maxOutput ?? Number.MAX_SAFE_INTEGER;
  }

  /** Members decoded completely so far. */
  get members(): number {
    return this.#members;
  }

  /** See {@linkcode SyncDecoder.decode}. */
  decode(input: InputBuffer): Uint8Array | typeof NEED_INPUT | null {
    const lzma = this.#lzma;
    for (;;) {
      const available = input.end - input.pos;
      switch (this.#phase) {
        case PHASE_HEADER: {
          if (available < HEADER_SIZE) {
            if (!input.ended) return NEED_INPUT;
            if (available === 0 && this.#members > 0) return null;
            throw this.#shortHeader(input, available);
          }
          this.#readHeader(input);
          this.#phase = PHASE_START;
          continue;
        }
        case PHASE_START: {
          if (available < 5) {
            if (!input.ended) return NEED_INPUT;
            throw this.#error(input.offset + input.end, "input is truncated in the LZMA data");
          }
          lzma.input = input.bytes;
          lzma.inPos = input.pos;
          try {
            lzma.initRangeCoder();
          } catch (e) {
            throw this.#lzmaError(input, e);
          }
          input.pos = lzma.inPos;
          this.#flushStart = 0;
          this.#phase = PHASE_DATA;
          continue;
        }
        case PHASE_DATA: {
          lzma.input = input.bytes;
          lzma.inPos = input.pos;
          const dict = lzma.dict;
          const outLimit = Math.min(dict.length, lzma.dictPos + OUT_CHUNK);
          let status;
          try {
            status = lzma.run(outLimit, input.end);
          } catch (e) {
            throw this.#lzmaError(input, e);
          }
          input.pos = lzma.inPos;
          if (status === LZMA_END) this.#phase = PHASE_TRAILER;
          const start = this.#flushStart;
          const end = lzma.dictPos;
          let out: Uint8Array | undefined;
          if (end > start) {
            out = dict.slice(start, end);
            this.#crc = crc32(out, this.#crc);
            this.#dataSize += out.length;
          }
          if (end === dict.length) {
            lzma.dictPos = 0;
            lzma.wrapped = true;
            this.#flushStart = 0;
          } else {
            this.#flushStart = end;
          }
          if (out !== undefined) return out;
          if (status === LZMA_END || end === dict.length) continue;
          if (!input.ended) return NEED_INPUT;
          throw this.#error(input.offset + input.end, "input is truncated in the LZMA data");
        }
        case PHASE_TRAILER: {
          if (lzma.markerLength !== 2) {
            throw this.#error(
              input.offset + input.pos,
              `unsupported LZMA marker with length ${lzma.markerLength} (only the end-of-stream marker is allowed)`,
            );
          }
          if (available < TRAILER_SIZE) {
            if (!input.ended) return NEED_INPUT;
            throw this.#error(input.offset + input.end, "input is truncated in the member trailer");
          }
          this.#checkTrailer(input);
          this.#phase = PHASE_HEADER;
          continue;
        }
      }
    }
  }

  #readHeader(input: InputBuffer): void {
    const b = input.bytes;
    const p = input.pos;
    const at = input.offset + p;
    if (
      b[p] !== MAGIC[0] || b[p + 1] !== MAGIC[1] || b[p + 2] !== MAGIC[2] || b[p + 3] !== MAGIC[3]
    ) {
      const shown = describeBytes(b.subarray(p, Math.min(input.end, p + 8)));
      throw new DecompressionError(
        "lzip",
        this.#members === 0
          ? `not an lzip member: header starts with ${shown}, expected "LZIP"`
          : `trailing data after the last member (${this.#members} members): ${shown}`,
        { offset: at },
      );
    }
    const version = b[p + 4]!;
    if (version !== 1) {
      throw new DecompressionError(
        "lzip",
        `unsupported lzip version ${version} in member ${this.#members + 1} header (expected 1)`,
        { offset: at + 4 },
      );
    }
    const coded = b[p + 5]!;
    const size = lzipDictionarySize(coded);
    if (size < LZIP_MIN_DICTIONARY || size > LZIP_MAX_DICTIONARY) {
      throw new DecompressionError(
        "lzip",
        `invalid dictionary size ${size} (coded 0x${hex(coded, 2)}) in member ${
          this.#members + 1
        } header: must be between 4 KiB and 512 MiB`,
        { offset: at + 5 },
      );
    }
    if (size > this.#maxDictionary) {
      throw new DecompressionError(
        "lzip",
        `dictionary size ${size} (coded 0x${hex(coded, 2)}) in member ${
          this.#members + 1
        } header exceeds the configured limit of ${this.#maxDictionary} bytes`,
        { offset: at + 5 },
      );
    }
    this.#dictionarySize = size;
    this.#memberStart = at;
    this.#crc = 0;
    this.#dataSize = 0;
    this.#lzma.startMember(size, Math.min(size, this.#maxOutput + 1));
    input.pos = p + HEADER_SIZE;
  }

  #checkTrailer(input: InputBuffer): void {
    const b = input.bytes;
    const p = input.pos;
    const at = input.offset + p;
    const member = this.#members + 1;
    const storedCrc = u32(b, p);
    const crc = this.#crc >>> 0;
    if (storedCrc !== crc) {
      throw new DecompressionError(
        "lzip",
        `CRC32 mismatch in member ${member}: trailer says 0x${hex(storedCrc, 8)}, data has 0x${
          hex(crc, 8)
        }`,
        { offset: at },
      );
    }
    const storedData = u64(b, p + 4);
    if (storedData !== this.#dataSize) {
      throw new DecompressionError(
        "lzip",
        `data size mismatch in member ${member}: trailer says ${storedData}, decoded ${this.#dataSize}`,
        { offset: at + 4 },
      );
    }
    const storedMember = u64(b, p + 12);
    const memberSize = at + TRAILER_SIZE - this.#memberStart;
    if (storedMember !== memberSize) {
      throw new DecompressionError(
        "lzip",
        `member size mismatch in member ${member}: trailer says ${storedMember}, member is ${memberSize} bytes`,
        { offset: at + 12 },
      );
    }
    input.pos = p + TRAILER_SIZE;
    this.#members++;
  }

  #shortHeader(input: InputBuffer, available: number): DecompressionError {
    const at = input.offset + input.pos;
    if (available === 0) return new DecompressionError("lzip", "empty input", { offset: at });
    const rest = input.bytes.subarray(input.pos, input.end);
    const prefixOfMagic = rest.every((byte, k) => k >= 4 || byte === MAGIC[k]);
    if (this.#members > 0 && !prefixOfMagic) {
      return new DecompressionError(
        "lzip",
        `trailing data after the last member (${this.#members} members): ${describeBytes(rest)}`,
        { offset: at },
      );
    }
    return new DecompressionError(
      "lzip",
      `input is truncated in a member header (${available} of 6 bytes: ${describeBytes(rest)})`,
      { offset: at },
    );
  }

  #lzmaError(input: InputBuffer, e: unknown): unknown {
    if (!(e instanceof LzmaDataError)) return e;
    return this.#error(input.offset + e.inPos, e.message);
  }

  #error(offset: number, detail: string): DecompressionError {
    return new DecompressionError(
      "lzip",
      `${detail} (member ${
        this.#members + 1
      } starting at offset ${this.#memberStart}, dictionary ${this.#dictionarySize} bytes)`,
      { offset },
    );
  }
}

function u32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function u64(b: Uint8Array, p: number): number {
  return u32(b, p) + u32(b, p + 4) * 2 ** 32;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/**
 * Shows up to 8 bytes as hex plus their printable ASCII.
 *
 * @example
 * ```ts
 * import { describeBytes } from "./_lzip.ts";
 * describeBytes(new Uint8Array([0x4c, 0x5a, 0])); // '4c 5a 00 ("LZ.")'
 * ```
 */
export function describeBytes(bytes: Uint8Array): string {
  const shown = bytes.subarray(0, 8);
  const hexes = Array.from(shown, (b) => hex(b, 2)).join(" ");
  const text = Array.from(shown, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "."))
    .join("");
  return `${hexes} (${JSON.stringify(text)})${bytes.length > 8 ? "..." : ""}`;
}
