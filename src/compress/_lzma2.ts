/**
 * The LZMA2 layer of an xz block, on top of {@linkcode LzmaDecoder}: reads
 * each chunk's control byte (dictionary reset, new properties, state reset,
 * uncompressed chunk, end of block), runs LZMA chunks through the decoder and
 * copies uncompressed chunks into its window, and checks that every chunk
 * ends exactly where its header says.
 *
 * The xz container ({@linkcode XzDecoder} in `_xz.ts`) owns block headers,
 * padding and integrity checks; errors are built by the function it passes in,
 * so they name the stream being decoded.
 *
 * @example
 * ```ts
 * import { Lzma2Decoder } from "./_lzma2.ts";
 * import { DecompressionError } from "./errors.ts";
 * const lzma2 = new Lzma2Decoder((offset, detail) => new DecompressionError("xz", detail, { offset }));
 * lzma2.startBlock(1 << 20);
 * ```
 * @module
 */
import { LZMA_END, LzmaDataError, LzmaDecoder } from "./_lzma.ts";
import { type InputBuffer, NEED_INPUT } from "./_sync_engine.ts";
import { hex } from "./_xz_fields.ts";
import type { DecompressionError } from "./errors.ts";

/** Output is handed out in pieces of at most this size. */
const OUT_CHUNK = 256 * 1024;

/** Builds the error for bad data at compressed `offset`. */
export type XzFail = (offset: number, detail: string) => DecompressionError;

const enum Chunk {
  Control,
  Lzma,
  Copy,
}

/**
 * Decodes the LZMA2 data of one xz block at a time.
 *
 * @example
 * ```ts
 * import { Lzma2Decoder } from "./_lzma2.ts";
 * import { DecompressionError } from "./errors.ts";
 * const lzma2 = new Lzma2Decoder((offset, detail) => new DecompressionError("xz", detail, { offset }));
 * lzma2.startBlock(1 << 20);
 * const input = { bytes: new Uint8Array([0]), pos: 0, end: 1, offset: 0, ended: true };
 * lzma2.decode(input); // null: the block's data ends at once
 * ```
 */
export class Lzma2Decoder {
  readonly #lzma = new LzmaDecoder(0, 0, 0);
  readonly #fail: XzFail;
  readonly #maxOutput: number;
  #state = Chunk.Control;
  #dictionarySize = 0;
  #needDictReset = true;
  #needProps = true;
  #chunkLeft = 0;
  #chunkInEnd = 0;

  /**
   * Creates a decoder whose errors come from `fail`; `maxOutput` caps the
   * window allocated (the most output the caller accepts).
   */
  constructor(fail: XzFail, maxOutput = Number.MAX_SAFE_INTEGER) {
    this.#fail = fail;
    this.#maxOutput = maxOutput;
  }

  /** Starts a block whose LZMA2 dictionary is `dictionarySize` bytes. */
  startBlock(dictionarySize: number): void {
    this.#dictionarySize = dictionarySize;
    this.#needDictReset = true;
    this.#needProps = true;
    this.#state = Chunk.Control;
    this.#lzma.startMember(dictionarySize, Math.min(dictionarySize, this.#maxOutput + 1));
  }

  /**
   * Decodes from `input`, advancing `input.pos`: a non-empty output chunk,
   * {@linkcode NEED_INPUT}, or `null` once the block's end-of-data control
   * byte was read. Throws on bad data.
   */
  decode(input: InputBuffer): Uint8Array | typeof NEED_INPUT | null {
    for (;;) {
      switch (this.#state) {
        case Chunk.Control: {
          const step = this.#readChunkControl(input);
          if (step === NEED_INPUT) return NEED_INPUT;
          if (step === null) return null;
          continue;
        }
        case Chunk.Lzma: {
          const out = this.#decodeLzma(input);
          if (out === undefined) continue;
          return out;
        }
        case Chunk.Copy: {
          if (input.end === input.pos) return this.#short(input, "uncompressed LZMA2 chunk");
          return this.#copyChunk(input);
        }
      }
    }
  }

  #readChunkControl(input: InputBuffer): typeof NEED_INPUT | null | void {
    const b = input.bytes;
    const p = input.pos;
    const at = input.offset + p;
    const available = input.end - p;
    if (available < 1) return this.#short(input, "LZMA2 chunk header");
    const control = b[p]!;
    if (control === 0) {
      input.pos = p + 1;
      return null;
    }
    const lzma = this.#lzma;
    if (control >= 0x80) {
      const headerSize = control >= 0xc0 ? 6 : 5;
      // The LZMA chunk's data starts with 5 range-coder bytes.
      if (available < headerSize + 5) return this.#short(input, "LZMA2 chunk header");
      const unpacked = ((control & 0x1f) << 16) + (b[p + 1]! << 8) + b[p + 2]! + 1;
      const packed = (b[p + 3]! << 8) + b[p + 4]! + 1;
      if (control >= 0xe0) this.#dictReset();
      else if (this.#needDictReset) {
        throw this.#fail(at, "first LZMA2 chunk does not reset the dictionary");
      }
      if (control >= 0xc0) {
        const props = b[p + 5]!;
        const lc = props % 9;
        const lp = Math.floor(props / 9) % 5;
        const pb = Math.floor(props / 45);
        if (props >= 9 * 5 * 5 || lc + lp > 4) {
          throw this.#fail(at + 5, `invalid LZMA2 properties byte 0x${hex(props)}`);
        }
        lzma.setProperties(lc, lp, pb);
        this.#needProps = false;
      } else if (this.#needProps) {
        throw this.#fail(at, `LZMA2 chunk 0x${hex(control)} lacks the properties it needs`);
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
      this.#state = Chunk.Lzma;
      return;
    }
    if (control > 2) throw this.#fail(at, `invalid LZMA2 control byte 0x${hex(control)}`);
    if (available < 3) return this.#short(input, "LZMA2 chunk header");
    if (control === 1) {
      this.#dictReset();
    } else if (this.#needDictReset) {
      throw this.#fail(at, "first LZMA2 chunk does not reset the dictionary");
    }
    this.#chunkLeft = (b[p + 1]! << 8) + b[p + 2]! + 1;
    input.pos = p + 3;
    this.#state = Chunk.Copy;
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
      throw this.#fail(input.offset + input.pos, "LZMA2 data contains an end marker");
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
        throw this.#fail(input.offset + input.pos, "a match runs past the end of its LZMA2 chunk");
      }
      const consumedTo = input.offset + input.pos;
      if (consumedTo !== this.#chunkInEnd) {
        throw this.#fail(
          consumedTo,
          `LZMA2 chunk should end at offset ${this.#chunkInEnd}, its data ended at ${consumedTo}`,
        );
      }
      this.#state = Chunk.Control;
    }
    if (produced > 0) return dict.slice(start, end);
    if (this.#chunkLeft === 0) return undefined;
    if (input.offset + input.pos > this.#chunkInEnd) {
      throw this.#fail(this.#chunkInEnd, "LZMA2 chunk data runs past its compressed size");
    }
    if (!input.ended) return NEED_INPUT;
    throw this.#fail(input.offset + input.end, "input is truncated in LZMA2 data");
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
    if (this.#chunkLeft === 0) this.#state = Chunk.Control;
    return dict.slice(start, start + n);
  }

  /** Input ran out inside `what`: wait for more, or fail if none will come. */
  #short(input: InputBuffer, what: string): typeof NEED_INPUT {
    if (!input.ended) return NEED_INPUT;
    throw this.#fail(input.offset + input.end, `input is truncated in the ${what}`);
  }

  #lzmaError(input: InputBuffer, e: unknown): unknown {
    if (!(e instanceof LzmaDataError)) return e;
    return this.#fail(input.offset + e.inPos, `LZMA2 data error: ${e.message}`);
  }
}
