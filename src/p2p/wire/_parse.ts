/**
 * Frame payload parsers of the block exchange (docs/protocol.md §3.2–§3.3):
 * one per message type, each checking every field and naming the field, the
 * value and the stream offset of what it refuses. Used by the decoder once a
 * frame's length, version and type have been checked.
 *
 * @example
 * ```ts
 * import { parsePayload } from "./_parse.ts";
 * // payload = u8 version | u8 type | u32 id | body; base = its stream offset
 * parsePayload(new Uint8Array([2, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9]), 4);
 * // { kind: "cancel", id: 1, indexes: [9] }
 * ```
 * @module
 */
import { Bitfield, byteLengthFor, trailingBitsIn } from "./bitfield.ts";
import {
  blockCountFor,
  HASH_LENGTH,
  isValidBlockSize,
  type Manifest,
  MAX_BLOCK_SIZE,
} from "./manifest.ts";
import { BodyReader } from "./_body_reader.ts";
import {
  type BlockEncoding,
  BULK_TICKET_SIZE,
  type ErrorCode,
  type HaveState,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_HAVE_HASHES,
  MAX_INDEXES,
  MAX_NARS,
  MAX_WHOLE_NAR,
  type WireMessage,
} from "./messages.ts";

/** Message names by type byte, for error messages. */
export const TYPE_NAMES = [
  undefined,
  "GET_MANIFEST",
  "MANIFEST",
  "GET_BLOCKS",
  "BLOCK",
  "NOT_FOUND",
  "ERROR",
  "CANCEL",
  "HAVE",
  "HAVE_REPLY",
  "GET_NARS",
  "NAR",
  "BULK_OPEN",
  "BULK_TICKET",
] as const;

const ERROR_CODES: (ErrorCode | undefined)[] = [
  undefined,
  "not-available",
  "busy",
  "bad-request",
  "internal",
];
const ENCODINGS: BlockEncoding[] = ["raw", "zstd"];
const HAVE_STATES: HaveState[] = ["none", "complete", "partial"];
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Parses a payload whose length, version and type were checked by the decoder. */
export function parsePayload(payload: Uint8Array, base: number): WireMessage {
  const type = payload[1]!;
  const r = new BodyReader(payload, base, TYPE_NAMES[type]!);
  r.pos = 2;
  const id = r.u32("request id");
  switch (type) {
    case 1:
    case 5: {
      const narHash = r.copy(HASH_LENGTH, "nar_hash");
      r.end();
      return { kind: type === 1 ? "get-manifest" : "not-found", id, narHash };
    }
    case 2:
      return { kind: "manifest", id, manifest: parseManifest(r) };
    case 3: {
      const narHash = r.copy(HASH_LENGTH, "nar_hash");
      const indexes = parseIndexes(r);
      return { kind: "get-blocks", id, narHash, indexes };
    }
    case 4:
      return parseBlock(r, id);
    case 6: {
      const codeAt = r.pos;
      const value = r.u16("code");
      const code = ERROR_CODES[value];
      if (code === undefined) throw r.fail(`unknown error code ${value}, expected 1 to 4`, codeAt);
      const text = r.rest();
      if (text.length > MAX_ERROR_MESSAGE_BYTES) {
        throw r.fail(
          `message of ${text.length} bytes exceeds ${MAX_ERROR_MESSAGE_BYTES}`,
          codeAt + 2,
        );
      }
      let message: string;
      try {
        message = utf8.decode(text);
      } catch {
        throw r.fail(`message is not valid UTF-8`, codeAt + 2);
      }
      return { kind: "error", id, code, message };
    }
    case 7:
      return { kind: "cancel", id, indexes: parseIndexes(r) };
    case 8:
      return { kind: "have", id, narHashes: parseHashes(r, MAX_HAVE_HASHES) };
    case 9:
      return { kind: "have-reply", id, states: parseStates(r) };
    case 10:
      return { kind: "get-nars", id, narHashes: parseHashes(r, MAX_NARS) };
    case 12:
      r.end();
      return { kind: "bulk-open", id };
    case 13: {
      const portAt = r.pos;
      const port = r.u16("port");
      if (port === 0) throw r.fail("port 0", portAt);
      const ticket = r.copy(BULK_TICKET_SIZE, "ticket");
      r.end();
      return { kind: "bulk-ticket", id, port, ticket };
    }
    default:
      return parseNar(r, id);
  }
}

function parseHashes(r: BodyReader, max: number): Uint8Array[] {
  const countAt = r.pos;
  const count = r.u32("count");
  if (count < 1 || count > max) throw r.fail(`count ${count} is not in 1..${max}`, countAt);
  if (r.remaining !== HASH_LENGTH * count) {
    throw r.fail(`${r.remaining} bytes for ${count} hashes, expected ${HASH_LENGTH * count}`);
  }
  const out = new Array<Uint8Array>(count);
  for (let i = 0; i < count; i++) out[i] = r.copy(HASH_LENGTH, "nar_hash");
  return out;
}

function parseStates(r: BodyReader): HaveState[] {
  const countAt = r.pos;
  const count = r.u32("count");
  if (count < 1 || count > MAX_HAVE_HASHES) {
    throw r.fail(`count ${count} is not in 1..${MAX_HAVE_HASHES}`, countAt);
  }
  if (r.remaining !== count) {
    throw r.fail(`${r.remaining} bytes for ${count} states, expected ${count}`);
  }
  const out = new Array<HaveState>(count);
  for (let i = 0; i < count; i++) {
    const at = r.pos;
    const value = r.u8("state");
    const state = HAVE_STATES[value];
    if (state === undefined) throw r.fail(`unknown state ${value}, expected 0 to 2`, at);
    out[i] = state;
  }
  return out;
}

function parseNar(r: BodyReader, id: number): WireMessage {
  const narHash = r.copy(HASH_LENGTH, "nar_hash");
  const payload = parseEncoded(r, MAX_WHOLE_NAR, "the largest whole NAR", "raw NAR data");
  return { kind: "nar", id, narHash, ...payload };
}

/** `encoding`, `raw_length` (at most `max`) and the data of a NAR or block message. */
function parseEncoded(r: BodyReader, max: number, limit: string, what: string) {
  const encodingAt = r.pos;
  const value = r.u8("encoding");
  const encoding = ENCODINGS[value];
  if (encoding === undefined) {
    throw r.fail(`unknown encoding ${value}, expected 0 or 1`, encodingAt);
  }
  const rawAt = r.pos;
  const rawLength = r.u32("raw_length");
  if (rawLength > max) throw r.fail(`raw_length ${rawLength} exceeds ${limit} ${max}`, rawAt);
  const data = r.rest();
  if (encoding === "raw" && data.length !== rawLength) {
    throw r.fail(`${what} is ${data.length} bytes but raw_length is ${rawLength}`, rawAt);
  }
  return { encoding, rawLength, data };
}

function parseIndexes(r: BodyReader): number[] {
  const countAt = r.pos;
  const count = r.u32("count");
  if (count < 1 || count > MAX_INDEXES) {
    throw r.fail(`count ${count} is not in 1..${MAX_INDEXES}`, countAt);
  }
  if (r.remaining !== 4 * count) {
    throw r.fail(`${r.remaining} bytes for ${count} indexes, expected ${4 * count}`);
  }
  const indexes = new Array<number>(count);
  for (let i = 0; i < count; i++) indexes[i] = r.u32("index");
  return indexes;
}

function parseBlock(r: BodyReader, id: number): WireMessage {
  const index = r.u32("index");
  const payload = parseEncoded(r, MAX_BLOCK_SIZE, "the largest block size", "raw block data");
  return { kind: "block", id, index, ...payload };
}

function parseManifest(r: BodyReader): Manifest {
  const narHash = r.copy(HASH_LENGTH, "nar_hash");
  const narSize = r.u64("nar_size");
  const sizeAt = r.pos;
  const blockSize = r.u32("block_size");
  if (!isValidBlockSize(blockSize)) {
    throw r.fail(`block_size ${blockSize} is not a power of two in [16384, 4194304]`, sizeAt);
  }
  const countAt = r.pos;
  const blockCount = r.u32("block_count");
  const expected = blockCountFor(narSize, blockSize);
  if (blockCount !== expected) {
    throw r.fail(
      `block_count ${blockCount} is not ceil(nar_size ${narSize} / block_size ${blockSize}) = ${expected}`,
      countAt,
    );
  }
  const flagsAt = r.pos;
  const flags = r.u8("flags");
  if ((flags & ~1) !== 0) {
    throw r.fail(`flags 0x${flags.toString(16).padStart(2, "0")} has unknown bits set`, flagsAt);
  }
  const bitfieldLength = byteLengthFor(blockCount);
  const want = bitfieldLength + blockCount * HASH_LENGTH;
  if (r.remaining !== want) {
    throw r.fail(
      `${r.remaining} bytes after flags, expected ${bitfieldLength} (bitfield) + ${blockCount} × 32 (hashes) = ${want}`,
    );
  }
  const bitsAt = r.pos;
  const bits = r.view(bitfieldLength, "have bitfield");
  const extra = trailingBitsIn(bits, blockCount);
  if (extra !== 0) {
    throw r.fail(
      `have bitfield has unused trailing bits set (0x${
        bits[bits.length - 1]!.toString(16).padStart(2, "0")
      } in its last byte for ${blockCount} blocks)`,
      bitsAt + bitfieldLength - 1,
    );
  }
  const have = Bitfield.fromBytes(bits, blockCount);
  const hashes = r.copy(blockCount * HASH_LENGTH, "block hashes");
  return { narHash, narSize, blockSize, blockCount, have, hashes, verified: (flags & 1) === 1 };
}
