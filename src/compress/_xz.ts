/**
 * The .xz container (xz file format 1.1.0) with LZMA2, decoded in TypeScript:
 * streams, blocks, the integrity checks (none, CRC32, CRC64, SHA-256), the
 * index and the stream footer are all verified. Concatenated streams and
 * stream padding are accepted, as `xz -dc` does; anything else after the last
 * stream is an error. The parts: block headers, checks and index totals in
 * `_xz_block.ts`, the LZMA2 chunks in `_lzma2.ts` (on top of the LZMA decoder
 * in `_lzma.ts`), field encodings in `_xz_fields.ts`.
 *
 * Only the LZMA2 filter is supported (what `xz` and Nix write by default);
 * a block using BCJ or delta filters fails with a message naming the filter,
 * and the external engine (`xz -dc`) decodes those.
 *
 * @example
 * ```ts
 * import { XzDecoder } from "./_xz.ts";
 * import { syncEngine } from "./_sync_engine.ts";
 * const engine = syncEngine(new XzDecoder({ maxDictionarySize: 64 << 20 }));
 * ```
 * @module
 */
import { crc32 } from "node:zlib";
import { Lzma2Decoder } from "./_lzma2.ts";
import { describeBytes } from "./_lzip.ts";
import { type InputBuffer, NEED_INPUT, type SyncDecoder } from "./_sync_engine.ts";
import { BlockCheck, parseBlockHeader, RecordSummary } from "./_xz_block.ts";
import { checkSize, hex, readVarint, u32 } from "./_xz_fields.ts";
import { DecompressionError } from "./errors.ts";

const HEADER_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FOOTER_MAGIC = [0x59, 0x5a];

/** Options of {@linkcode XzDecoder}. */
export interface XzDecoderOptions {
  /** Reject LZMA2 dictionaries larger than this (default 512 MiB). */
  maxDictionarySize?: number | undefined;
  /** The most output the caller accepts: caps the window allocated (see lzip). */
  maxOutput?: number | undefined;
}

const enum Phase {
  StreamHeader,
  BlockOrIndex,
  BlockHeader,
  BlockData,
  BlockPadding,
  Check,
  IndexCount,
  IndexRecords,
  IndexTail,
  StreamFooter,
  StreamPadding,
}

/**
 * The xz decoder as a {@linkcode SyncDecoder}.
 *
 * @example
 * ```ts
 * import { XzDecoder } from "./_xz.ts";
 * const xz = new XzDecoder({ maxDictionarySize: 64 << 20 });
 * const input = { bytes: new Uint8Array(0), pos: 0, end: 0, offset: 0, ended: false };
 * xz.decode(input); // NEED_INPUT
 * ```
 */
export class XzDecoder implements SyncDecoder {
  readonly #fail = (offset: number, detail: string): DecompressionError =>
    this.#error(offset, detail);
  readonly #lzma2: Lzma2Decoder;
  readonly #maxDictionary: number;
  #phase = Phase.StreamHeader;
  #streams = 0;
  #streamStart = 0;
  #checkType = 0;
  #checkSize = 0;
  // Current block.
  #blockStart = 0;
  #headerSize = 0;
  #declaredCompressed = -1;
  #declaredUncompressed = -1;
  #dataStart = 0;
  #blockOutput = 0;
  #check = new BlockCheck(0);
  // Index.
  #blocks = new RecordSummary();
  #records = new RecordSummary();
  #indexStart = 0;
  #indexLeft = 0;
  #indexCrc = 0;

  /** Creates a decoder; see {@linkcode XzDecoderOptions}. */
  constructor(options: XzDecoderOptions = {}) {
    this.#maxDictionary = options.maxDictionarySize ?? 1 << 29;
    this.#lzma2 = new Lzma2Decoder(this.#fail, options.maxOutput ?? Number.MAX_SAFE_INTEGER);
  }

  /** See {@linkcode SyncDecoder.decode}. */
  decode(input: InputBuffer): Uint8Array | typeof NEED_INPUT | null {
    for (;;) {
      const available = input.end - input.pos;
      const b = input.bytes;
      const p = input.pos;
      const at = input.offset + p;
      switch (this.#phase) {
        case Phase.StreamHeader: {
          const seen = Math.min(available, HEADER_MAGIC.length);
          if (!HEADER_MAGIC.every((m, k) => k >= seen || b[p + k] === m)) {
            throw this.#error(
              at,
              this.#streams === 0
                ? `not an xz stream: starts with ${describeBytes(b.subarray(p, p + 8))}`
                : `trailing data after the last stream: ${describeBytes(b.subarray(p, p + 8))}`,
            );
          }
          if (available < 12) return this.#short(input, "stream header");
          this.#checkFlagsCrc(b, p + 6, p + 8, at + 8, "stream header");
          if (b[p + 6] !== 0 || (b[p + 7]! & 0xf0) !== 0) {
            throw this.#error(
              at + 6,
              `unsupported stream flags 0x${hex(b[p + 6]!)}${hex(b[p + 7]!)}`,
            );
          }
          this.#checkType = b[p + 7]! & 0x0f;
          this.#checkSize = checkSize(this.#checkType);
          if (![0, 1, 4, 10].includes(this.#checkType)) {
            throw this.#error(
              at + 7,
              `unsupported integrity check type ${this.#checkType} (built-in decoder knows none, CRC32, CRC64, SHA-256)`,
            );
          }
          this.#streamStart = at;
          this.#blocks = new RecordSummary();
          input.pos = p + 12;
          this.#phase = Phase.BlockOrIndex;
          continue;
        }
        case Phase.BlockOrIndex: {
          if (available < 1) return this.#short(input, "block header");
          if (b[p] === 0) {
            this.#indexStart = at;
            this.#indexCrc = crc32(b.subarray(p, p + 1));
            this.#records = new RecordSummary();
            input.pos = p + 1;
            this.#phase = Phase.IndexCount;
            continue;
          }
          this.#headerSize = (b[p]! + 1) * 4;
          this.#phase = Phase.BlockHeader;
          continue;
        }
        case Phase.BlockHeader: {
          if (available < this.#headerSize) return this.#short(input, "block header");
          this.#startBlock(input);
          continue;
        }
        case Phase.BlockData: {
          const out = this.#lzma2.decode(input);
          if (out === NEED_INPUT) return NEED_INPUT;
          if (out === null) {
            this.#phase = Phase.BlockPadding;
            continue;
          }
          this.#blockOutput += out.length;
          this.#check.update(out);
          return out;
        }
        case Phase.BlockPadding: {
          const compressed = at - this.#dataStart;
          const pad = (4 - ((this.#headerSize + compressed) & 3)) & 3;
          if (available < pad) return this.#short(input, "block padding");
          for (let k = 0; k < pad; k++) {
            if (b[p + k] !== 0) {
              throw this.#error(at + k, `non-zero block padding 0x${hex(b[p + k]!)}`);
            }
          }
          if (this.#declaredCompressed >= 0 && this.#declaredCompressed !== compressed) {
            throw this.#error(
              at,
              `block compressed size is ${compressed}, its header says ${this.#declaredCompressed}`,
            );
          }
          if (this.#declaredUncompressed >= 0 && this.#declaredUncompressed !== this.#blockOutput) {
            throw this.#error(
              at,
              `block uncompressed size is ${this.#blockOutput}, its header says ${this.#declaredUncompressed}`,
            );
          }
          this.#blocks.add(this.#headerSize + compressed + this.#checkSize, this.#blockOutput);
          input.pos = p + pad;
          this.#phase = Phase.Check;
          continue;
        }
        case Phase.Check: {
          if (available < this.#checkSize) return this.#short(input, "block check");
          this.#check.verify(input, this.#checkSize, this.#blockStart, this.#fail);
          input.pos = p + this.#checkSize;
          this.#phase = Phase.BlockOrIndex;
          continue;
        }
        case Phase.IndexCount: {
          const count = readVarint(input, p, "index record count");
          if (count === NEED_INPUT) return this.#short(input, "index");
          this.#indexLeft = count.value;
          this.#indexCrc = crc32(b.subarray(p, count.end), this.#indexCrc);
          input.pos = count.end;
          this.#phase = Phase.IndexRecords;
          continue;
        }
        case Phase.IndexRecords: {
          if (this.#indexLeft === 0) {
            this.#phase = Phase.IndexTail;
            continue;
          }
          const unpadded = readVarint(input, p, "index unpadded size");
          if (unpadded === NEED_INPUT) return this.#short(input, "index");
          const uncompressed = readVarint(input, unpadded.end, "index uncompressed size");
          if (uncompressed === NEED_INPUT) return this.#short(input, "index");
          this.#records.add(unpadded.value, uncompressed.value);
          this.#indexCrc = crc32(b.subarray(p, uncompressed.end), this.#indexCrc);
          input.pos = uncompressed.end;
          this.#indexLeft--;
          continue;
        }
        case Phase.IndexTail: {
          const pad = (4 - ((at - this.#indexStart) & 3)) & 3;
          if (available < pad + 4) return this.#short(input, "index");
          for (let k = 0; k < pad; k++) {
            if (b[p + k] !== 0) {
              throw this.#error(at + k, `non-zero index padding 0x${hex(b[p + k]!)}`);
            }
          }
          const crc = crc32(b.subarray(p, p + pad), this.#indexCrc);
          if (u32(b, p + pad) !== crc) {
            throw this.#error(
              at + pad,
              `index CRC32 mismatch: stored 0x${hex(u32(b, p + pad), 8)}, computed 0x${
                hex(crc, 8)
              }`,
            );
          }
          if (!this.#records.equals(this.#blocks)) {
            throw this.#error(
              this.#indexStart,
              `index does not match the blocks (${this.#records.count} records for ${this.#blocks.count} blocks, ` +
                `${this.#records.uncompressed} vs ${this.#blocks.uncompressed} uncompressed bytes)`,
            );
          }
          input.pos = p + pad + 4;
          this.#phase = Phase.StreamFooter;
          continue;
        }
        case Phase.StreamFooter: {
          if (available < 12) return this.#short(input, "stream footer");
          if (b[p + 10] !== FOOTER_MAGIC[0] || b[p + 11] !== FOOTER_MAGIC[1]) {
            throw this.#error(
              at + 10,
              `bad stream footer magic ${describeBytes(b.subarray(p + 10, p + 12))}`,
            );
          }
          this.#checkFlagsCrc(b, p + 4, p + 10, at, "stream footer");
          const indexSize = (u32(b, p + 4) + 1) * 4;
          if (indexSize !== at - this.#indexStart) {
            throw this.#error(
              at + 4,
              `stream footer says the index is ${indexSize} bytes, it is ${at - this.#indexStart}`,
            );
          }
          if (b[p + 8] !== 0 || b[p + 9] !== this.#checkType) {
            throw this.#error(at + 8, "stream footer flags differ from the stream header's");
          }
          input.pos = p + 12;
          this.#streams++;
          this.#phase = Phase.StreamPadding;
          continue;
        }
        case Phase.StreamPadding: {
          // Zero bytes in groups of 4, then the end or another stream.
          let k = p;
          while (k < input.end && b[k] === 0) k++;
          const zeros = k - p;
          const padEnd = p + zeros - (zeros & 3);
          input.pos = padEnd;
          if (k < input.end) {
            if ((zeros & 3) !== 0) {
              throw this.#error(
                input.offset + padEnd,
                "stream padding is not a multiple of 4 bytes",
              );
            }
            this.#phase = Phase.StreamHeader;
            continue;
          }
          if (!input.ended) return NEED_INPUT;
          if ((zeros & 3) !== 0) {
            throw this.#error(input.offset + padEnd, "stream padding is not a multiple of 4 bytes");
          }
          input.pos = input.end;
          return null;
        }
      }
    }
  }

  #startBlock(input: InputBuffer): void {
    const at = input.offset + input.pos;
    const header = parseBlockHeader(input, this.#headerSize, this.#maxDictionary, this.#fail);
    this.#declaredCompressed = header.declaredCompressed;
    this.#declaredUncompressed = header.declaredUncompressed;
    this.#blockStart = at;
    this.#dataStart = at + this.#headerSize;
    this.#blockOutput = 0;
    this.#check = new BlockCheck(this.#checkType);
    this.#lzma2.startBlock(header.dictionarySize);
    input.pos += this.#headerSize;
    this.#phase = Phase.BlockData;
  }

  #checkFlagsCrc(b: Uint8Array, from: number, to: number, crcAt: number, what: string): void {
    const stored = u32(b, what === "stream header" ? to : from - 4);
    const crc = crc32(b.subarray(from, to));
    if (stored !== crc) {
      throw this.#error(
        crcAt,
        `${what} CRC32 mismatch: stored 0x${hex(stored, 8)}, computed 0x${hex(crc, 8)}`,
      );
    }
  }

  #short(input: InputBuffer, what: string): typeof NEED_INPUT {
    if (!input.ended) return NEED_INPUT;
    const at = input.offset + input.pos;
    if (at === 0 && input.end === input.pos) throw this.#error(0, "empty input");
    throw this.#error(input.offset + input.end, `input is truncated in the ${what}`);
  }

  #error(offset: number, detail: string): DecompressionError {
    const where = this.#phase === Phase.StreamHeader && this.#streams === 0
      ? ""
      : ` (stream ${this.#streams + 1} starting at offset ${this.#streamStart})`;
    return new DecompressionError("xz", detail + where, { offset });
  }
}
