/**
 * The .xz container (xz file format 1.1.0) with LZMA2, decoded in TypeScript
 * on top of {@linkcode LzmaDecoder}: streams, blocks, LZMA2 chunks, the
 * integrity checks (none, CRC32, CRC64, SHA-256), the index and the stream
 * footer are all verified. Concatenated streams and stream padding are
 * accepted, as `xz -dc` does; anything else after the last stream is an error.
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
import { createHash, type Hash } from "node:crypto";
import { crc32 } from "node:zlib";
import { Crc64 } from "./_crc64.ts";
import { LZMA_END, LzmaDataError, LzmaDecoder } from "./_lzma.ts";
import { describeBytes } from "./_lzip.ts";
import { type InputBuffer, NEED_INPUT, type SyncDecoder } from "./_sync_engine.ts";
import { DecompressionError } from "./errors.ts";

const HEADER_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FOOTER_MAGIC = [0x59, 0x5a];
const LZMA2_FILTER = 0x21;
const FILTER_NAMES: Record<number, string> = {
  0x03: "delta",
  0x04: "x86 BCJ",
  0x05: "PowerPC BCJ",
  0x06: "IA-64 BCJ",
  0x07: "ARM BCJ",
  0x08: "ARM-Thumb BCJ",
  0x09: "SPARC BCJ",
  0x0a: "ARM64 BCJ",
  0x0b: "RISC-V BCJ",
};
/** Output is handed out in pieces of at most this size. */
const OUT_CHUNK = 256 * 1024;

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
  ChunkControl,
  LzmaChunk,
  CopyChunk,
  BlockPadding,
  Check,
  IndexCount,
  IndexRecords,
  IndexTail,
  StreamFooter,
  StreamPadding,
}

/** Running totals used to compare blocks with index records (O(1) memory). */
class RecordSummary {
  count = 0;
  unpadded = 0;
  uncompressed = 0;
  crc = 0;
  add(unpadded: number, uncompressed: number): void {
    this.count++;
    this.unpadded += unpadded;
    this.uncompressed += uncompressed;
    const record = new Uint8Array(16);
    const view = new DataView(record.buffer);
    view.setFloat64(0, unpadded, true);
    view.setFloat64(8, uncompressed, true);
    this.crc = crc32(record, this.crc);
  }
  equals(other: RecordSummary): boolean {
    return this.count === other.count && this.unpadded === other.unpadded &&
      this.uncompressed === other.uncompressed && this.crc === other.crc;
  }
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
  readonly #lzma = new LzmaDecoder(0, 0, 0);
  readonly #maxDictionary: number;
  readonly #maxOutput: number;
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
  #dictionarySize = 0;
  #dataStart = 0;
  #blockOutput = 0;
  #check: Crc64 | Hash | number = 0;
  #needDictReset = true;
  #needProps = true;
  // Current LZMA2 chunk.
  #chunkLeft = 0;
  #chunkInEnd = 0;
  // Index.
  #blocks = new RecordSummary();
  #records = new RecordSummary();
  #indexStart = 0;
  #indexLeft = 0;
  #indexCrc = 0;

  /** Creates a decoder; see {@linkcode XzDecoderOptions}. */
  constructor(options: XzDecoderOptions = {}) {
    this.#maxDictionary = options.maxDictionarySize ?? 1 << 29;
    this.#maxOutput = options.maxOutput ?? Number.MAX_SAFE_INTEGER;
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
          this.#readBlockHeader(input);
          continue;
        }
        case Phase.ChunkControl: {
          const step = this.#readChunkControl(input);
          if (step === NEED_INPUT) return NEED_INPUT;
          continue;
        }
        case Phase.LzmaChunk: {
          const out = this.#decodeLzma(input);
          if (out === NEED_INPUT) return NEED_INPUT;
          if (out !== undefined) return out;
          continue;
        }
        case Phase.CopyChunk: {
          if (available === 0) return this.#short(input, "uncompressed LZMA2 chunk");
          return this.#copyChunk(input);
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
          this.#verifyCheck(input);
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

  #readBlockHeader(input: InputBuffer): void {
    const b = input.bytes;
    const p = input.pos;
    const at = input.offset + p;
    const size = this.#headerSize;
    const stored = u32(b, p + size - 4);
    const crc = crc32(b.subarray(p, p + size - 4));
    if (stored !== crc) {
      throw this.#error(
        at + size - 4,
        `block header CRC32 mismatch: stored 0x${hex(stored, 8)}, computed 0x${hex(crc, 8)}`,
      );
    }
    const flags = b[p + 1]!;
    if (flags & 0x3c) throw this.#error(at + 1, `reserved block flags set: 0x${hex(flags)}`);
    const view: InputBuffer = { ...input, end: p + size - 4 };
    let q = p + 2;
    const field = (what: string): number => {
      const v = readVarint(view, q, what);
      if (v === NEED_INPUT) {
        throw this.#error(input.offset + q, `block header too short for its ${what}`);
      }
      q = v.end;
      return v.value;
    };
    this.#declaredCompressed = flags & 0x40 ? field("compressed size") : -1;
    this.#declaredUncompressed = flags & 0x80 ? field("uncompressed size") : -1;
    if (this.#declaredCompressed === 0) {
      throw this.#error(at, "block header declares compressed size 0");
    }
    const filters = (flags & 3) + 1;
    let dictionary = -1;
    for (let f = 0; f < filters; f++) {
      const id = field("filter id");
      const propsSize = field("filter properties size");
      if (id !== LZMA2_FILTER) {
        throw this.#error(
          input.offset + q,
          `filter 0x${id.toString(16)} (${
            FILTER_NAMES[id] ?? "unknown"
          }) is not supported by the built-in decoder (the external \`xz\` engine decodes it)`,
        );
      }
      if (f !== filters - 1) throw this.#error(input.offset + q, "LZMA2 must be the last filter");
      if (propsSize !== 1 || q >= view.end) {
        throw this.#error(input.offset + q, `LZMA2 properties must be 1 byte, not ${propsSize}`);
      }
      const d = b[q++]!;
      if (d > 40) {
        throw this.#error(input.offset + q - 1, `invalid LZMA2 dictionary size code ${d}`);
      }
      dictionary = d === 40 ? 0xffffffff : (2 | (d & 1)) * 2 ** ((d >> 1) + 11);
    }
    for (; q < view.end; q++) {
      if (b[q] !== 0) throw this.#error(input.offset + q, "non-zero block header padding");
    }
    if (dictionary > this.#maxDictionary) {
      throw this.#error(
        at,
        `LZMA2 dictionary of ${dictionary} bytes exceeds the configured limit of ${this.#maxDictionary} bytes`,
      );
    }
    this.#dictionarySize = dictionary;
    this.#blockStart = at;
    this.#dataStart = at + size;
    this.#blockOutput = 0;
    this.#needDictReset = true;
    this.#needProps = true;
    this.#check = this.#checkType === 1
      ? 0
      : this.#checkType === 4
      ? new Crc64()
      : this.#checkType === 10
      ? createHash("sha256")
      : 0;
    this.#lzma.startMember(dictionary, Math.min(dictionary, this.#maxOutput + 1));
    input.pos = p + size;
    this.#phase = Phase.ChunkControl;
  }

  #readChunkControl(input: InputBuffer): typeof NEED_INPUT | void {
    const b = input.bytes;
    const p = input.pos;
    const at = input.offset + p;
    const available = input.end - p;
    if (available < 1) return this.#short(input, "LZMA2 chunk header") as typeof NEED_INPUT;
    const control = b[p]!;
    if (control === 0) {
      input.pos = p + 1;
      this.#phase = Phase.BlockPadding;
      return;
    }
    const lzma = this.#lzma;
    if (control >= 0x80) {
      const headerSize = control >= 0xc0 ? 6 : 5;
      // The LZMA chunk's data starts with 5 range-coder bytes.
      if (available < headerSize + 5) {
        return this.#short(input, "LZMA2 chunk header") as typeof NEED_INPUT;
      }
      const unpacked = ((control & 0x1f) << 16) + (b[p + 1]! << 8) + b[p + 2]! + 1;
      const packed = (b[p + 3]! << 8) + b[p + 4]! + 1;
      if (control >= 0xe0) this.#dictReset();
      else if (this.#needDictReset) {
        throw this.#error(at, "first LZMA2 chunk does not reset the dictionary");
      }
      if (control >= 0xc0) {
        const props = b[p + 5]!;
        const lc = props % 9;
        const lp = Math.floor(props / 9) % 5;
        const pb = Math.floor(props / 45);
        if (props >= 9 * 5 * 5 || lc + lp > 4) {
          throw this.#error(at + 5, `invalid LZMA2 properties byte 0x${hex(props)}`);
        }
        lzma.setProperties(lc, lp, pb);
        this.#needProps = false;
      } else if (this.#needProps) {
        throw this.#error(at, `LZMA2 chunk 0x${hex(control)} lacks the properties it needs`);
      }
      if (control >= 0xa0) lzma.resetState();
      lzma.input = b;
      lzma.inPos = p + headerSize;
      try {
        lzma.initRangeCoder();
      } catch (e) {
        throw this.#lzmaError(input, e);
      }
      input.pos = lzma.inPos;
      this.#chunkLeft = unpacked;
      this.#chunkInEnd = at + headerSize + packed;
      this.#phase = Phase.LzmaChunk;
      return;
    }
    if (control > 2) throw this.#error(at, `invalid LZMA2 control byte 0x${hex(control)}`);
    if (available < 3) return this.#short(input, "LZMA2 chunk header") as typeof NEED_INPUT;
    if (control === 1) {
      this.#dictReset();
    } else if (this.#needDictReset) {
      throw this.#error(at, "first LZMA2 chunk does not reset the dictionary");
    }
    this.#chunkLeft = (b[p + 1]! << 8) + b[p + 2]! + 1;
    input.pos = p + 3;
    this.#phase = Phase.CopyChunk;
  }

  #dictReset(): void {
    this.#lzma.startMember(
      this.#dictionarySize,
      Math.min(this.#dictionarySize, this.#maxOutput + 1),
    );
    this.#needDictReset = false;
    this.#needProps = true;
  }

  #decodeLzma(input: InputBuffer): Uint8Array | typeof NEED_INPUT | undefined {
    const lzma = this.#lzma;
    const dict = lzma.dict;
    const start = lzma.dictPos;
    lzma.input = input.bytes;
    lzma.inPos = input.pos;
    // Stop at the chunk's end, the window's end, or after OUT_CHUNK bytes. The input limit
    // is what we have, not the chunk's end: a valid stream always has more than 20 bytes
    // after any symbol (at least the index and the footer).
    const outLimit = Math.min(dict.length, start + this.#chunkLeft, start + OUT_CHUNK);
    let status;
    try {
      status = lzma.run(outLimit, input.end);
    } catch (e) {
      throw this.#lzmaError(input, e);
    }
    input.pos = lzma.inPos;
    if (status === LZMA_END) {
      throw this.#error(input.offset + input.pos, "LZMA2 data contains an end marker");
    }
    const end = lzma.dictPos;
    const produced = end - start;
    this.#chunkLeft -= produced;
    if (end === dict.length) {
      lzma.dictPos = 0;
      lzma.wrapped = true;
    }
    if (this.#chunkLeft === 0) {
      if (lzma.pendingLength > 0) {
        throw this.#error(input.offset + input.pos, "a match runs past the end of its LZMA2 chunk");
      }
      const consumedTo = input.offset + input.pos;
      if (consumedTo !== this.#chunkInEnd) {
        throw this.#error(
          consumedTo,
          `LZMA2 chunk should end at offset ${this.#chunkInEnd}, its data ended at ${consumedTo}`,
        );
      }
      this.#phase = Phase.ChunkControl;
    }
    if (produced > 0) return this.#output(dict.slice(start, end));
    if (this.#chunkLeft === 0) return undefined;
    if (input.offset + input.pos > this.#chunkInEnd) {
      throw this.#error(this.#chunkInEnd, "LZMA2 chunk data runs past its compressed size");
    }
    if (!input.ended) return NEED_INPUT;
    throw this.#error(input.offset + input.end, "input is truncated in LZMA2 data");
  }

  #copyChunk(input: InputBuffer): Uint8Array {
    const lzma = this.#lzma;
    const dict = lzma.dict;
    const start = lzma.dictPos;
    const n = Math.min(this.#chunkLeft, input.end - input.pos, dict.length - start, OUT_CHUNK);
    dict.set(input.bytes.subarray(input.pos, input.pos + n), start);
    input.pos += n;
    this.#chunkLeft -= n;
    lzma.dictPos = start + n;
    if (lzma.dictPos === dict.length) {
      lzma.dictPos = 0;
      lzma.wrapped = true;
    }
    if (this.#chunkLeft === 0) this.#phase = Phase.ChunkControl;
    return this.#output(dict.slice(start, start + n));
  }

  #output(chunk: Uint8Array): Uint8Array {
    this.#blockOutput += chunk.length;
    const check = this.#check;
    if (typeof check === "number") {
      if (this.#checkType === 1) this.#check = crc32(chunk, check);
    } else {
      check.update(chunk);
    }
    return chunk;
  }

  #verifyCheck(input: InputBuffer): void {
    if (this.#checkSize === 0) return;
    const p = input.pos;
    const stored = input.bytes.subarray(p, p + this.#checkSize);
    const check = this.#check;
    let computed: Uint8Array;
    if (typeof check === "number") {
      computed = new Uint8Array(4);
      new DataView(computed.buffer).setUint32(0, check >>> 0, true);
    } else if (check instanceof Crc64) {
      computed = check.bytes();
    } else {
      const digest = check.digest();
      computed = new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
    }
    if (!stored.every((byte, k) => byte === computed[k])) {
      const name = { 1: "CRC32", 4: "CRC64", 10: "SHA-256" }[this.#checkType] ?? "check";
      throw this.#error(
        input.offset + p,
        `${name} mismatch in the block starting at offset ${this.#blockStart}: stored ${
          toHex(stored)
        }, computed ${toHex(computed)}`,
      );
    }
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

  #lzmaError(input: InputBuffer, e: unknown): unknown {
    if (!(e instanceof LzmaDataError)) return e;
    return this.#error(input.offset + e.inPos, `LZMA2 data error: ${e.message}`);
  }

  #error(offset: number, detail: string): DecompressionError {
    const where = this.#phase === Phase.StreamHeader && this.#streams === 0
      ? ""
      : ` (stream ${this.#streams + 1} starting at offset ${this.#streamStart})`;
    return new DecompressionError("xz", detail + where, { offset });
  }
}

/** Reads an xz variable-length integer at `p`; `NEED_INPUT` if incomplete. */
function readVarint(
  input: InputBuffer,
  p: number,
  what: string,
): { value: number; end: number } | typeof NEED_INPUT {
  const b = input.bytes;
  let value = 0;
  for (let k = 0; k < 9; k++) {
    if (p + k >= input.end) return NEED_INPUT;
    const byte = b[p + k]!;
    value += (byte & 0x7f) * 2 ** (7 * k);
    if ((byte & 0x80) === 0) {
      if (byte === 0 && k > 0) {
        throw new DecompressionError("xz", `non-minimal encoding of the ${what}`, {
          offset: input.offset + p,
        });
      }
      if (!Number.isSafeInteger(value)) {
        throw new DecompressionError("xz", `${what} ${value} is too large`, {
          offset: input.offset + p,
        });
      }
      return { value, end: p + k + 1 };
    }
  }
  throw new DecompressionError("xz", `${what} is longer than 9 bytes`, {
    offset: input.offset + p,
  });
}

function checkSize(type: number): number {
  return type === 0 ? 0 : 4 << Math.floor((type - 1) / 3);
}

function u32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function hex(n: number, width = 2): string {
  return n.toString(16).padStart(width, "0");
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => hex(b)).join("");
}
