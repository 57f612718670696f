/**
 * The decoder of the narinfo exchange (docs/protocol.md §6): an incremental,
 * bounded frame decoder and a reader of a stream of chunks. Pure: bytes in,
 * values out. Every violation is a {@linkcode WireError} naming the field,
 * the offending value and its stream offset; after one the decoder stays
 * failed and the stream must be reset.
 *
 * @example
 * ```ts
 * import { encodeNarinfoFrame } from "./encode.ts";
 * import { NarinfoFrameDecoder } from "./decode.ts";
 * const d = new NarinfoFrameDecoder({ accept: "responses" });
 * d.push(encodeNarinfoFrame({ kind: "narinfos", id: 7, first: 0, entries: [null] }));
 * d.next(); // { kind: "narinfos", id: 7, first: 0, entries: [null] }
 * ```
 * @module
 */
import { WireError } from "../wire/errors.ts";
import { type ChunkLike, readDecoded } from "../wire/read.ts";
import { NARINFO_TYPE_NAMES, parsePayload, PAYLOAD_HEADER } from "./_parse.ts";
import {
  MAX_NARINFO_MESSAGE,
  NARINFO_WIRE_VERSION,
  type NarinfoAccept,
  NarinfoMessageType,
  type NarinfoWireMessage,
} from "./messages.ts";

/** Options of {@linkcode NarinfoFrameDecoder}. */
export interface NarinfoDecodeOptions {
  /** Which direction of messages is legal on this stream. */
  accept: NarinfoAccept;
  /** Largest accepted payload. Default 2 MiB for responses, 64 KiB for requests. */
  maxMessageSize?: number;
}

/**
 * `push` bytes as they arrive, call `next` until it returns undefined. A
 * frame's header is checked as soon as its bytes arrive, so the decoder never
 * holds more than one frame of at most `maxMessageSize` plus the last chunk.
 *
 * @example
 * ```ts
 * import { NarinfoFrameDecoder } from "./decode.ts";
 * const d = new NarinfoFrameDecoder({ accept: "requests" });
 * d.push(new Uint8Array([0, 0, 0, 6, 1, 2, 0, 0, 0, 1])); // a NARINFOS to a responder: throws
 * ```
 */
export class NarinfoFrameDecoder {
  #buffer = new Uint8Array(0);
  #offset = 0;
  #max: number;
  #accept: NarinfoAccept;
  #error: WireError | undefined;

  /** Creates a decoder. */
  constructor(options: NarinfoDecodeOptions) {
    this.#accept = options.accept;
    this.#max = options.maxMessageSize ??
      (options.accept === "requests" ? 64 * 1024 : MAX_NARINFO_MESSAGE);
  }

  /** Adds received bytes. @throws {WireError} if the frame header is invalid. */
  push(bytes: Uint8Array): void {
    if (this.#error) throw this.#error;
    if (bytes.length === 0) return;
    const joined = new Uint8Array(this.#buffer.length + bytes.length);
    joined.set(this.#buffer);
    joined.set(bytes, this.#buffer.length);
    this.#buffer = joined;
    this.#header();
  }

  /** The next complete message, or undefined. @throws {WireError} */
  next(): NarinfoWireMessage | undefined {
    if (this.#error) throw this.#error;
    const length = this.#header();
    if (length === undefined || this.#buffer.length < 4 + length) return undefined;
    const payload = this.#buffer.subarray(4, 4 + length);
    const at = this.#offset;
    this.#buffer = this.#buffer.slice(4 + length);
    this.#offset += 4 + length;
    try {
      return parsePayload(payload, at + 4);
    } catch (e) {
      throw this.#fail(e instanceof WireError ? e : new WireError(String(e), at));
    }
  }

  /** Call at end of stream. @throws {WireError} if it ended inside a frame. */
  end(): void {
    if (this.#error) throw this.#error;
    if (this.#buffer.length > 0) {
      throw this.#fail(
        new WireError(`stream ended inside a frame (${this.#buffer.length} bytes)`, this.#offset),
      );
    }
  }

  /** The current frame's payload length once its header is known valid. */
  #header(): number | undefined {
    const b = this.#buffer;
    if (b.length < 4) return undefined;
    const length = new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
    const at = this.#offset;
    if (length > this.#max) {
      throw this.#fail(new WireError(`frame length ${length} exceeds the limit ${this.#max}`, at));
    }
    if (length < PAYLOAD_HEADER) {
      throw this.#fail(new WireError(`frame length ${length} is shorter than 6`, at));
    }
    if (b.length >= 5 && b[4] !== NARINFO_WIRE_VERSION) {
      throw this.#fail(
        new WireError(`unsupported version ${b[4]}, expected ${NARINFO_WIRE_VERSION}`, at + 4),
      );
    }
    if (b.length >= 6) {
      const type = b[5]!;
      const name = NARINFO_TYPE_NAMES[type];
      if (name === undefined) {
        throw this.#fail(new WireError(`unknown message type ${type}`, at + 5));
      }
      const isRequest = type === NarinfoMessageType.GET_NARINFOS;
      if (isRequest !== (this.#accept === "requests")) {
        throw this.#fail(
          new WireError(`${name} is not a ${this.#accept.slice(0, -1)} message`, at + 5),
        );
      }
    }
    return length;
  }

  #fail(error: WireError): WireError {
    this.#error = error;
    this.#buffer = new Uint8Array(0);
    return error;
  }
}

/**
 * Yields every message of `source` in order; ends when the source ends at a
 * frame boundary; stops when `signal` aborts (also while waiting for bytes).
 * @throws {WireError} on a protocol violation.
 *
 * @example
 * ```ts
 * import { encodeNarinfoFrame } from "./encode.ts";
 * import { readNarinfoFrames } from "./decode.ts";
 * const frames = [encodeNarinfoFrame({ kind: "error", id: 2, code: "busy", message: "later" })];
 * for await (const m of readNarinfoFrames(frames, { accept: "responses" })) console.log(m.kind);
 * ```
 */
export function readNarinfoFrames(
  source: AsyncIterable<ChunkLike> | Iterable<ChunkLike>,
  options: NarinfoDecodeOptions & { signal?: AbortSignal | undefined },
): AsyncGenerator<NarinfoWireMessage, void, undefined> {
  return readDecoded(source, new NarinfoFrameDecoder(options), options.signal);
}
