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
import { parsePayload, TYPE_NAMES } from "./_parse.ts";
import { WireError } from "./errors.ts";
import {
  type Accept,
  DEFAULT_MAX_MESSAGE_SIZE,
  isRequestKind,
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
  "bulk-open",
  "bulk-ticket",
] as const;

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
