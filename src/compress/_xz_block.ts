/**
 * The parts of an xz block around its LZMA2 data: the block header (sizes,
 * filter chain, dictionary size), the integrity check that follows the data,
 * and the running record totals the stream's index is compared with.
 *
 * @example
 * ```ts
 * import { BlockCheck } from "./_xz_block.ts";
 * const check = new BlockCheck(4); // CRC64
 * check.update(new TextEncoder().encode("hello"));
 * ```
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { crc32 } from "node:zlib";
import { Crc64 } from "./_crc64.ts";
import type { XzFail } from "./_lzma2.ts";
import { type InputBuffer, NEED_INPUT } from "./_sync_engine.ts";
import { hex, readVarint, toHex, u32 } from "./_xz_fields.ts";

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

/** What a block header declares; a size of -1 means "not stated". */
export interface BlockHeader {
  /** Compressed size of the block's data, or -1. */
  declaredCompressed: number;
  /** Uncompressed size of the block's data, or -1. */
  declaredUncompressed: number;
  /** The LZMA2 dictionary size, in bytes. */
  dictionarySize: number;
}

/**
 * Parses and verifies the `size`-byte block header at `input.pos` (all of it
 * must be in `input`): CRC32, flags, sizes, a filter chain that is LZMA2 only,
 * padding, and a dictionary no larger than `maxDictionary`. Does not advance
 * `input.pos`. Errors come from `fail`.
 *
 * @example
 * ```ts
 * import { parseBlockHeader } from "./_xz_block.ts";
 * import { DecompressionError } from "./errors.ts";
 * const fail = (offset: number, detail: string) => new DecompressionError("xz", detail, { offset });
 * const bytes = new Uint8Array([0x02, 0x00, 0x21, 0x01, 0x10, 0, 0, 0, 0xa8, 0x70, 0x8e, 0x86]);
 * const input = { bytes, pos: 0, end: bytes.length, offset: 0, ended: false };
 * parseBlockHeader(input, 12, 1 << 29, fail).dictionarySize; // 1 MiB
 * ```
 */
export function parseBlockHeader(
  input: InputBuffer,
  size: number,
  maxDictionary: number,
  fail: XzFail,
): BlockHeader {
  const b = input.bytes;
  const p = input.pos;
  const at = input.offset + p;
  const stored = u32(b, p + size - 4);
  const crc = crc32(b.subarray(p, p + size - 4));
  if (stored !== crc) {
    throw fail(
      at + size - 4,
      `block header CRC32 mismatch: stored 0x${hex(stored, 8)}, computed 0x${hex(crc, 8)}`,
    );
  }
  const flags = b[p + 1]!;
  if (flags & 0x3c) throw fail(at + 1, `reserved block flags set: 0x${hex(flags)}`);
  const view: InputBuffer = { ...input, end: p + size - 4 };
  let q = p + 2;
  const field = (what: string): number => {
    const v = readVarint(view, q, what);
    if (v === NEED_INPUT) {
      throw fail(input.offset + q, `block header too short for its ${what}`);
    }
    q = v.end;
    return v.value;
  };
  const declaredCompressed = flags & 0x40 ? field("compressed size") : -1;
  const declaredUncompressed = flags & 0x80 ? field("uncompressed size") : -1;
  if (declaredCompressed === 0) {
    throw fail(at, "block header declares compressed size 0");
  }
  const filters = (flags & 3) + 1;
  let dictionary = -1;
  for (let f = 0; f < filters; f++) {
    const id = field("filter id");
    const propsSize = field("filter properties size");
    if (id !== LZMA2_FILTER) {
      throw fail(
        input.offset + q,
        `filter 0x${id.toString(16)} (${
          FILTER_NAMES[id] ?? "unknown"
        }) is not supported by the built-in decoder (the external \`xz\` engine decodes it)`,
      );
    }
    if (f !== filters - 1) throw fail(input.offset + q, "LZMA2 must be the last filter");
    if (propsSize !== 1 || q >= view.end) {
      throw fail(input.offset + q, `LZMA2 properties must be 1 byte, not ${propsSize}`);
    }
    const d = b[q++]!;
    if (d > 40) {
      throw fail(input.offset + q - 1, `invalid LZMA2 dictionary size code ${d}`);
    }
    dictionary = d === 40 ? 0xffffffff : (2 | (d & 1)) * 2 ** ((d >> 1) + 11);
  }
  for (; q < view.end; q++) {
    if (b[q] !== 0) throw fail(input.offset + q, "non-zero block header padding");
  }
  if (dictionary > maxDictionary) {
    throw fail(
      at,
      `LZMA2 dictionary of ${dictionary} bytes exceeds the configured limit of ${maxDictionary} bytes`,
    );
  }
  return { declaredCompressed, declaredUncompressed, dictionarySize: dictionary };
}

/**
 * The integrity check of one block (type 0 none, 1 CRC32, 4 CRC64, 10
 * SHA-256), computed over the block's output.
 *
 * @example
 * ```ts
 * import { BlockCheck } from "./_xz_block.ts";
 * const check = new BlockCheck(1);
 * check.update(new Uint8Array([1, 2, 3]));
 * ```
 */
export class BlockCheck {
  readonly #type: number;
  #check: Crc64 | Hash | number;

  /** Starts the check of type `type` over no bytes. */
  constructor(type: number) {
    this.#type = type;
    this.#check = type === 1
      ? 0
      : type === 4
      ? new Crc64()
      : type === 10
      ? createHash("sha256")
      : 0;
  }

  /** Adds the block output `chunk`. */
  update(chunk: Uint8Array): void {
    const check = this.#check;
    if (typeof check === "number") {
      if (this.#type === 1) this.#check = crc32(chunk, check);
    } else {
      check.update(chunk);
    }
  }

  /**
   * Compares the `size` stored check bytes at `input.pos` with the computed
   * value; on a mismatch throws `fail`'s error naming the block that starts
   * at `blockStart`.
   */
  verify(input: InputBuffer, size: number, blockStart: number, fail: XzFail): void {
    if (size === 0) return;
    const p = input.pos;
    const stored = input.bytes.subarray(p, p + size);
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
      const name = { 1: "CRC32", 4: "CRC64", 10: "SHA-256" }[this.#type] ?? "check";
      throw fail(
        input.offset + p,
        `${name} mismatch in the block starting at offset ${blockStart}: stored ${
          toHex(stored)
        }, computed ${toHex(computed)}`,
      );
    }
  }
}

/**
 * Running totals used to compare blocks with index records (O(1) memory).
 *
 * @example
 * ```ts
 * import { RecordSummary } from "./_xz_block.ts";
 * const blocks = new RecordSummary();
 * const records = new RecordSummary();
 * blocks.add(100, 200);
 * records.add(100, 200);
 * blocks.equals(records); // true
 * ```
 */
export class RecordSummary {
  /** Records added. */
  count = 0;
  /** Sum of the unpadded sizes. */
  unpadded = 0;
  /** Sum of the uncompressed sizes. */
  uncompressed = 0;
  /** CRC32 over every record, in order. */
  crc = 0;

  /** Adds one block's (or index record's) sizes. */
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

  /** Whether both saw the same records in the same order. */
  equals(other: RecordSummary): boolean {
    return this.count === other.count && this.unpadded === other.unpadded &&
      this.uncompressed === other.uncompressed && this.crc === other.crc;
  }
}
