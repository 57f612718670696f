/**
 * Incremental, bounded frame decoder of the block exchange (docs/protocol.md
 * §3.1–§3.3). A frame's header is checked as soon as its bytes arrive: an
 * oversized length, a wrong version or an unknown type throws before any of
 * the body is waited for, so a peer can never make the decoder hold more than
 * one `maxMessageSize` frame plus the chunk being pushed. Every violation is a
 * {@linkcode WireError} naming the field, the value and the stream offset;
 * after one, the decoder stays failed (the stream must be reset).
 *
 * Byte fields of decoded `block` messages are views into the pushed chunks
 * when a frame arrived in one chunk: do not modify chunks after pushing them.
 * Hashes, bitfields and hash lists are copied.
 *
 * @example
 * ```ts
 * import { FrameDecoder } from "./decode.ts";
 * import { encodeFrame } from "./encode.ts";
 * const d = new FrameDecoder({ accept: "requests" });
 * d.push(encodeFrame({ kind: "cancel", id: 1, indexes: [4, 5] }));
 * d.next(); // { kind: "cancel", id: 1, indexes: [4, 5] }
 * d.next(); // undefined: needs more bytes
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
import { WireError } from "./errors.ts";
import {
  type Accept,
  type BlockEncoding,
  DEFAULT_MAX_MESSAGE_SIZE,
  type ErrorCode,
  type HaveState,
  isRequestKind,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_HAVE_HASHES,
  MAX_INDEXES,
  MAX_NARS,
  MAX_WHOLE_NAR,
  WIRE_VERSION,
  type WireMessage,
} from "./messages.ts";

/** Options of {@linkcode FrameDecoder}. */
export interface DecodeOptions {
  /** Largest accepted payload (`max_message_size`). Default 8 MiB. */
  maxMessageSize?: number;
  /** Which direction of messages is legal on this stream. Default `"any"`. */
  accept?: Accept;
}

/** Payload bytes before the body: version, type, request id. */
const PAYLOAD_HEADER = 6;

const TYPE_NAMES = [
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
] as const;
const TYPE_KINDS = [
  undefined,
  "get-manifest",
  "manifest",
  "get-blocks",
  "block",
  "not-found",
  "error",
  "cancel",
  "have",
  "have-reply",
  "get-nars",
  "nar",
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

/**
 * `push` bytes as they arrive, call `next` until it returns undefined.
 *
 * @example
 * ```ts
 * import { FrameDecoder } from "./decode.ts";
 * const d = new FrameDecoder({ maxMessageSize: 1024 });
 * try {
 *   d.push(new Uint8Array([0, 0, 0x10, 0])); // a 4096-byte payload is announced
 * } catch (e) {
 *   console.log((e as Error).message); // "frame length 4096 exceeds max_message_size 1024 (at stream byte 0)"
 * }
 * ```
 */
export class FrameDecoder {
  #chunks: Uint8Array[] = [];
  /** Index of the first unconsumed chunk in `#chunks`. */
  #head = 0;
  #buffered = 0;
  /** Stream offset of the first buffered byte. */
  #offset = 0;
  /** Payload length of the current frame once its header is validated, else -1. */
  #length = -1;
  #max: number;
  #accept: Accept;
  #error: WireError | undefined;

  /** Creates a decoder. */
  constructor(options: DecodeOptions = {}) {
    const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!Number.isSafeInteger(max) || max < PAYLOAD_HEADER || max > 0xffffffff) {
      throw new RangeError(`FrameDecoder: maxMessageSize ${max} is not in [6, 2^32 - 1]`);
    }
    this.#max = max;
    this.#accept = options.accept ?? "any";
  }

  /** Bytes received and not yet returned as messages. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Stream offset of the next frame (bytes returned as messages so far). */
  get offset(): number {
    return this.#offset;
  }

  /**
   * Adds received bytes. @throws {WireError} if the current frame's header
   * (length, version, type) is already known to be invalid.
   */
  push(bytes: Uint8Array): void {
    if (this.#error) throw this.#error;
    if (bytes.length === 0) return;
    this.#chunks.push(bytes);
    this.#buffered += bytes.length;
    this.#checkHeader();
  }

  /** The next complete message, or undefined if more bytes are needed. @throws {WireError} */
  next(): WireMessage | undefined {
    if (this.#error) throw this.#error;
    this.#checkHeader();
    if (this.#length < 0 || this.#buffered < 4 + this.#length) return undefined;
    const frame = this.#take(4 + this.#length);
    const start = this.#offset;
    this.#offset += frame.length;
    this.#length = -1;
    try {
      return parsePayload(frame.subarray(4), start + 4);
    } catch (e) {
      throw this.#fail(e instanceof WireError ? e : new WireError(String(e), start));
    }
  }

  /** Call at end of stream. @throws {WireError} if the stream ended inside a frame. */
  end(): void {
    if (this.#error) throw this.#error;
    if (this.#buffered > 0) {
      throw this.#fail(
        new WireError(
          `stream ended inside a frame (${this.#buffered} bytes buffered)`,
          this.#offset,
        ),
      );
    }
  }

  #checkHeader(): void {
    if (this.#length >= 0 || this.#buffered < 4) return;
    const head = this.#peek(Math.min(this.#buffered, 4 + PAYLOAD_HEADER));
    const length = ((head[0]! << 24) >>> 0) + (head[1]! << 16) + (head[2]! << 8) + head[3]!;
    const at = this.#offset;
    if (length > this.#max) {
      throw this.#fail(
        new WireError(`frame length ${length} exceeds max_message_size ${this.#max}`, at),
      );
    }
    if (length < PAYLOAD_HEADER) {
      throw this.#fail(
        new WireError(`frame length ${length} is too short for version, type and id (6)`, at),
      );
    }
    if (head.length < 5) return;
    if (head[4] !== WIRE_VERSION) {
      throw this.#fail(
        new WireError(`unsupported version ${head[4]}, expected ${WIRE_VERSION}`, at + 4),
      );
    }
    if (head.length < 6) return;
    const type = head[5]!;
    const kind = TYPE_KINDS[type];
    if (kind === undefined) throw this.#fail(new WireError(`unknown message type ${type}`, at + 5));
    if (this.#accept !== "any" && isRequestKind(kind) !== (this.#accept === "requests")) {
      throw this.#fail(
        new WireError(`${TYPE_NAMES[type]} is not a ${this.#accept.slice(0, -1)} message`, at + 5),
      );
    }
    this.#length = length;
  }

  #fail(error: WireError): WireError {
    this.#error = error;
    this.#chunks = [];
    this.#head = 0;
    this.#buffered = 0;
    return error;
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[this.#head]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let at = 0;
    for (let i = this.#head; at < n; i++) {
      const c = this.#chunks[i]!;
      const take = Math.min(c.length, n - at);
      out.set(c.subarray(0, take), at);
      at += take;
    }
    return out;
  }

  /** Removes `n` buffered bytes (a view when they sit in one chunk). */
  #take(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[this.#head]!;
    let out: Uint8Array;
    if (first.length >= n) {
      if (first.length === n) this.#chunks[this.#head++] = EMPTY;
      else this.#chunks[this.#head] = first.subarray(n);
      out = first.subarray(0, n);
    } else {
      out = new Uint8Array(n);
      let at = 0;
      while (at < n) {
        const c = this.#chunks[this.#head]!;
        const take = Math.min(c.length, n - at);
        out.set(c.subarray(0, take), at);
        at += take;
        if (take === c.length) this.#chunks[this.#head++] = EMPTY;
        else this.#chunks[this.#head] = c.subarray(take);
      }
    }
    // Compact the queue once its consumed head dominates (amortised O(1) per chunk).
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Decodes exactly one complete frame.
 * @throws {WireError} if `frame` is not exactly one valid frame.
 *
 * @example
 * ```ts
 * import { decodeFrame } from "./decode.ts";
 * import { encodeFrame } from "./encode.ts";
 * decodeFrame(encodeFrame({ kind: "cancel", id: 9, indexes: [1] })); // { kind: "cancel", id: 9, indexes: [1] }
 * ```
 */
export function decodeFrame(frame: Uint8Array, options: DecodeOptions = {}): WireMessage {
  const d = new FrameDecoder(options);
  d.push(frame);
  const message = d.next();
  if (message === undefined) {
    throw new WireError(`incomplete frame: ${frame.length} bytes`, 0);
  }
  if (d.buffered !== 0) {
    throw new WireError(`${d.buffered} bytes after the frame`, d.offset);
  }
  return message;
}

/** Parses a payload whose length, version and type were checked by the decoder. */
function parsePayload(payload: Uint8Array, base: number): WireMessage {
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
  const encodingAt = r.pos;
  const value = r.u8("encoding");
  const encoding = ENCODINGS[value];
  if (encoding === undefined) {
    throw r.fail(`unknown encoding ${value}, expected 0 or 1`, encodingAt);
  }
  const rawAt = r.pos;
  const rawLength = r.u32("raw_length");
  if (rawLength > MAX_WHOLE_NAR) {
    throw r.fail(`raw_length ${rawLength} exceeds the largest whole NAR ${MAX_WHOLE_NAR}`, rawAt);
  }
  const data = r.rest();
  if (encoding === "raw" && data.length !== rawLength) {
    throw r.fail(`raw NAR data is ${data.length} bytes but raw_length is ${rawLength}`, rawAt);
  }
  return { kind: "nar", id, narHash, encoding, rawLength, data };
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
  const encodingAt = r.pos;
  const value = r.u8("encoding");
  const encoding = ENCODINGS[value];
  if (encoding === undefined) {
    throw r.fail(`unknown encoding ${value}, expected 0 or 1`, encodingAt);
  }
  const rawAt = r.pos;
  const rawLength = r.u32("raw_length");
  if (rawLength > MAX_BLOCK_SIZE) {
    throw r.fail(`raw_length ${rawLength} exceeds the largest block size ${MAX_BLOCK_SIZE}`, rawAt);
  }
  const data = r.rest();
  if (encoding === "raw" && data.length !== rawLength) {
    throw r.fail(`raw block data is ${data.length} bytes but raw_length is ${rawLength}`, rawAt);
  }
  return { kind: "block", id, index, encoding, rawLength, data };
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
